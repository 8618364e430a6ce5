import Foundation
import Testing
import TreeDiff

/// One row of the matching table: does `- pattern` exclude `path`?
struct FilterCase: Sendable, CustomTestStringConvertible {
    let pattern: String
    let path: String
    let isDirectory: Bool
    let matches: Bool

    init(_ pattern: String, _ path: String, _ kind: Kind, _ matches: Bool) {
        self.pattern = pattern
        self.path = path
        self.isDirectory = kind == .dir
        self.matches = matches
    }

    enum Kind { case file, dir }

    var testDescription: String { "\"\(pattern)\" vs \(path)\(isDirectory ? "/" : "") → \(matches)" }
}

let filterCases: [FilterCase] = [
    // Final-component patterns (no inner `/`, no `**`).
    FilterCase("*.lock", "etc/x.lock", .file, true),
    FilterCase("*.lock", "x.lock", .file, true),
    FilterCase("*.lock", "etc/x.lock/y", .file, false),
    FilterCase("*.lock", "etc/d.lock", .dir, true),
    FilterCase("*.webmintmp.*", "etc/webmin/a.serv.webmintmp.12.1", .file, true),
    FilterCase("*.webmintmp.*", "etc/webmintmp", .file, false),
    FilterCase("foo", "foo", .file, true),
    FilterCase("foo", "a/b/foo", .file, true),
    FilterCase("foo", "a/foo/b", .file, false),
    FilterCase("foo", "afoo", .file, false),
    FilterCase("foo", "foo", .dir, true),
    FilterCase("*", "anything/at/all", .file, true),
    FilterCase("12.*", "etc/12.serv", .file, true),
    FilterCase("12.*", "etc/112.serv", .file, false),
    FilterCase("*.serv", "etc/webmin/server-manager/12.serv", .file, true),
    FilterCase("sp ", "sp ", .file, true),
    FilterCase("sp ", "sp", .file, false),
    // Trailing `/`: directories only.
    FilterCase("foo/", "foo", .dir, true),
    FilterCase("foo/", "foo", .file, false),
    FilterCase("foo/", "a/foo", .dir, true),
    FilterCase("*/", "a/b", .file, false),
    FilterCase("*/", "a/b", .dir, true),
    // Anchored at the mirror root.
    FilterCase("/foo", "foo", .file, true),
    FilterCase("/foo", "a/foo", .file, false),
    FilterCase("/etc/webmin/server-manager/config", "etc/webmin/server-manager/config", .file, true),
    FilterCase("/etc/webmin/server-manager/config", "x/etc/webmin/server-manager/config", .file, false),
    FilterCase("/etc/server-manager-license", "etc/server-manager-license", .file, true),
    FilterCase("/*", "top", .file, true),
    FilterCase("/*", "a/b", .file, false),
    FilterCase("/a/", "a", .dir, true),
    FilterCase("/a/", "a", .file, false),
    // Inner `/`: the path's tail at a component boundary.
    FilterCase("webmin/server-manager", "etc/webmin/server-manager", .dir, true),
    FilterCase("webmin/server-manager", "etc/xwebmin/server-manager", .dir, false),
    FilterCase("webmin/server-manager", "webmin/server-manager", .dir, true),
    FilterCase("b/foo", "a/b/foo", .file, true),
    FilterCase("b/foo", "ab/foo", .file, false),
    FilterCase("a*/b", "x/ab/b", .file, true),
    FilterCase("a*/b", "b", .file, false),
    FilterCase("a*/b", "a/x/b", .file, false),
    FilterCase("collected/*", "var/webmin/modules/server-manager/collected/0", .file, true),
    FilterCase("collected/*", "var/webmin/modules/server-manager/collected/0/x", .file, false),
    // Wildcards.
    FilterCase("?.serv", "1.serv", .file, true),
    FilterCase("?.serv", "12.serv", .file, false),
    FilterCase("??.serv", "a/12.serv", .file, true),
    FilterCase("[0-9]*.serv", "etc/12.serv", .file, true),
    FilterCase("[0-9]*.serv", "etc/x12.serv", .file, false),
    FilterCase("[!0-9]*", "x1", .file, true),
    FilterCase("[!0-9]*", "1x", .file, false),
    FilterCase("[^0-9]*", "x1", .file, true),
    FilterCase("[[:digit:]]*", "7.serv", .file, true),
    FilterCase("[[:digit:]]*", "x.serv", .file, false),
    FilterCase("[]x]", "]", .file, true),
    FilterCase("[a-c-e]", "-", .file, true),
    FilterCase("a[/]b", "a/b", .file, false),
    // Backslash escapes only when the pattern holds a wildcard.
    FilterCase("a\\*b", "a*b", .file, true),
    FilterCase("a\\*b", "axb", .file, false),
    FilterCase("a\\b", "a\\b", .file, true),
    FilterCase("a\\b", "ab", .file, false),
    // `**` crosses `/`.
    FilterCase("**/foo", "foo", .file, true),
    FilterCase("**/foo", "x/y/foo", .file, true),
    FilterCase("**foo", "x/afoo", .file, true),
    FilterCase("/var/**/*.img", "var/cloudmin/images/a.img", .file, true),
    FilterCase("/var/**/*.img", "var/a.img", .file, false),
    FilterCase("a/**/b", "a/b", .file, false),
    FilterCase("a/**/b", "a/x/y/b", .file, true),
    FilterCase("a/**/b", "z/a/x/b", .file, true),
    FilterCase("/a/**/b", "z/a/x/b", .file, false),
    FilterCase("images/**", "var/cloudmin/images/a/b", .file, true),
    FilterCase("images/**", "var/cloudmin/images", .dir, false),
    // `dir/***`: the directory itself and everything inside.
    FilterCase("images/***", "var/cloudmin/images", .dir, true),
    FilterCase("images/***", "var/cloudmin/images/x.img", .file, true),
    FilterCase("images/***", "var/cloudmin/images", .file, false),
    FilterCase("/images/***", "var/cloudmin/images", .dir, false),
    FilterCase("/var/***", "var", .dir, true),
]

@Suite struct FilterPatternTable {
    @Test(arguments: filterCases)
    func patternDecidesAsTabled(_ row: FilterCase) {
        let list = FilterList([FilterRule(.exclude, row.pattern, source: .builtIn(reason: "table"))])
        let decision = list.decide(row.path, isDirectory: row.isDirectory)
        #expect(decision.included == !row.matches)
        #expect(FilterRule(.include, row.pattern, source: .builtIn(reason: "table")).matches(row.path, isDirectory: row.isDirectory) == row.matches)
    }

    /// Every row, checked against the installed rsync on a real tree holding just that path.
    @Test(arguments: filterCases)
    func rsyncAgreesWithRow(_ row: FilterCase) throws {
        let scratch = try FilterScratch()
        let root = scratch.path + "/src"
        if row.isDirectory {
            try scratch.directory("src/" + row.path)
        } else {
            try scratch.file("src/" + row.path)
        }
        let rule = FilterRule(.exclude, row.pattern, source: .builtIn(reason: "table"))
        let ours = try scanIncluded(root, filter: FilterList([rule]))
        let theirs = try rsyncIncluded(root, filterArguments: ["--filter=- " + row.pattern])
        #expect(ours == theirs)
        let name = row.isDirectory ? row.path + "/" : row.path
        // The row's own verdict, as a scan sees it, is rsync's verdict.
        #expect(theirs.contains(name) == ours.contains(name))
    }
}

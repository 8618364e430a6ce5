import Foundation
import Testing
import TreeDiff

/// Our scan and rsync's own filtering, on the same generated tree with the same rules file.
@Suite struct FilterRsyncComparison {
    static let rules = """
    # mixed rules, order matters
    + /etc/webmin/server-manager/keep.lock
    - *.lock
    - *.webmintmp.*
    + /var/cloudmin/images/keep/***
    - /var/cloudmin/images/*/
    - /var/cloudmin/images/*.img
    - cache/
    include **/important/*.txt
    exclude **/*.txt
    - [0-9][0-9].serv
    + ?.serv
    - *.serv
    - /etc/webmin/server-manager/this
    - b/c
    - tmp*
    exclude /opt/**/deep
    - [[]x]
    + */
    - a b
    """

    static let directories = [
        "etc", "etc/webmin", "etc/webmin/server-manager", "etc/webmin/server-manager/12",
        "var/cloudmin/images", "var/cloudmin/images/keep", "var/cloudmin/images/keep/sub", "var/cloudmin/images/old",
        "opt/a/b/deep", "opt/deep", "opt/x/deep/y", "x/b", "b", "cache", "x/cache", "docs/important", "docs/other",
        "tmpdir",
    ]
    static let files = ["1.serv", "12.serv", "abc.serv", "this", "keep.lock", "x.lock", "a.webmintmp.1.2",
                        "disk.img", "notes.txt", "c", "tmpfile", "[x]", "a b", "plain"]

    @Test func scanMatchesRsyncOnAGeneratedTree() throws {
        let scratch = try FilterScratch()
        for directory in Self.directories {
            for file in Self.files { try scratch.file("src/\(directory)/\(file)") }
        }
        for file in Self.files { try scratch.file("src/\(file)") }
        try scratch.file("rules.conf", Self.rules + "\n")
        let root = scratch.path + "/src"

        let list = try FilterList.load(contentsOf: scratch.path + "/rules.conf")
        let ours = try scanIncluded(root, filter: list)
        let theirs = try rsyncIncluded(root, filterArguments: ["--filter=merge " + scratch.path + "/rules.conf"])
        #expect(ours == theirs, "only ours: \(ours.subtracting(theirs).sorted()), only rsync's: \(theirs.subtracting(ours).sorted())")
        // The rules must actually cut the tree, or the comparison proves nothing.
        let all = try listTree(root).count
        #expect(theirs.count > all / 5 && theirs.count < all * 4 / 5)
    }
}

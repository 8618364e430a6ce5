import Foundation
import Testing
import TestSupport

@Suite("scan errors: one line on stderr, non-zero exit")
struct ScanErrorTests {
    /// The `error:` lines of a run.
    func errorLines(_ result: CLIRunner.Result) -> [Substring] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    }

    @Test("a bad rules line names the file and line")
    func badRulesLine() throws {
        let fixture = try CLIFixture()
        let rules = try fixture.rulesFile("- *.bak\nmerge /etc/other\n")
        let result = try fixture.scan(["--rules", rules])
        #expect(result.status == 78, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(errorLines(result).first?.contains("\(rules):2") == true)
    }

    @Test("a missing rules file names the file")
    func missingRulesFile() throws {
        let fixture = try CLIFixture()
        let missing = fixture.root.path + "-no-such-rules"
        let result = try fixture.scan(["--rules", missing, "--json"])
        #expect(result.status != 0, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(errorLines(result).first?.contains(missing) == true)
    }

    @Test("a bad configuration line names the file and line")
    func badConfigLine() throws {
        let fixture = try CLIFixture()
        try fixture.write("/etc/cloudmin-mirror/cloudmin-mirror.conf", "# settings\ninterval = 5m\nbuiltin_rules = perhaps\n")
        let result = try fixture.scan([])
        #expect(result.status == 78, "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(errorLines(result).first?.contains("cloudmin-mirror.conf:3") == true)
    }

    @Test("--root that is not a directory is an argument error")
    func missingRoot() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-root-\(UUID().uuidString)").path
        let result = try CLIRunner.run(["scan", "--root", missing])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(missing))
        let relative = try CLIRunner.run(["scan", "--root", "relative/dir"])
        #expect(relative.status == 64, "\(relative)")
    }

    @Test("a configured tree reached through a symlink is refused, naming the path")
    func treeThroughSymlink() throws {
        let fixture = try CLIFixture()
        let elsewhere = fixture.root.appendingPathComponent("srv/real")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: fixture.root.appendingPathComponent("srv/link").path,
                                                   withDestinationPath: "real")
        try fixture.write("/etc/cloudmin-mirror/cloudmin-mirror.conf", "tree = /srv/link\n")
        let result = try fixture.scan(["--json"])
        #expect(result.status == 78, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(errorLines(result).count == 1)
        #expect(errorLines(result).first?.contains("srv/link") == true)
    }
}

@Suite("scan of a root holding no Cloudmin tree")
struct EmptyRootTests {
    @Test("no configured tree under the root is an error, not an empty manifest")
    func noTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("empty-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try CLIRunner.run(["scan", "--root", root.path, "--json"])
        #expect(result.status == 66, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1)

        // One tree present is enough: the others are only warnings.
        try FileManager.default.createDirectory(at: root.appendingPathComponent("var/cloudmin/images"), withIntermediateDirectories: true)
        let partial = try CLIRunner.run(["scan", "--root", root.path, "--json"])
        #expect(partial.status == 0, "\(partial)")
        let json = try partial.jsonObject()
        #expect((json["warnings"] as? [[String: Any]])?.filter { $0["code"] as? String == "treeMissing" }.count == 2)
    }
}

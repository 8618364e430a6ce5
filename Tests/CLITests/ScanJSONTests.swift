import Foundation
import Testing
import TestSupport

@Suite("scan --json on the small fixture")
struct ScanJSONTests {
    @Test("excluded paths are absent from the entries, with the rule that excluded each")
    func exclusionsAndEntries() throws {
        let fixture = try CLIFixture()
        let result = try fixture.scan(["--json"])
        #expect(result.status == 0, "\(result)")
        let scan = try ScanJSON(result)
        let entries = scan.entryPaths
        #expect(!entries.isEmpty)
        for excluded in scan.excluded {
            let path = try #require(excluded["path"] as? String)
            #expect(!entries.contains(path), "\(path) is both excluded and listed")
            #expect(!entries.contains { $0.hasPrefix(path + "/") }, "something under \(path) is listed")
            #expect((excluded["rule"] as? String)?.isEmpty == false)
        }
        let excluded = scan.excludedPaths
        // The master's own status and settings.
        #expect(excluded.contains("\(Paths.collected)/0"))
        #expect(excluded.contains("\(Paths.config)/this"))
        // A guest hosted on the master: record, notes and directory out, status in.
        #expect(excluded.contains("\(Paths.config)/\(Paths.guestOnMaster).serv"))
        #expect(excluded.contains("\(Paths.config)/\(Paths.guestOnMaster)"))
        #expect(entries.contains("\(Paths.collected)/\(Paths.guestOnMaster)"))
        // A guest on another host is replicated whole.
        #expect(entries.contains("\(Paths.config)/\(Paths.remoteGuest).serv"))
        // An image stored in s3: record and payload out; local images in.
        #expect(excluded.contains("\(Paths.config)/images/3.image"))
        #expect(excluded.contains("\(Paths.images)/ubuntu-ec2.img"))
        #expect(entries.contains("\(Paths.config)/images/1.image"))
        // Lock and temp files.
        #expect(excluded.contains("\(Paths.config)/config.lock"))
        #expect(excluded.contains("\(Paths.collected)/1371467300078.lock"))
        #expect(excluded.contains("\(Paths.config)/1371467300052.serv.webmintmp.2817.1"))
        #expect(entries.contains("\(Paths.config)/config"))
        #expect(entries.contains("\(Paths.collected)/1371467300078"))
    }

    @Test("sparse images carry their extents; the symlink its target; stats add up")
    func entriesAndStats() throws {
        let fixture = try CLIFixture()
        let result = try fixture.scan(["--json"])
        #expect(result.status == 0, "\(result)")
        let scan = try ScanJSON(result)
        let image = try #require(scan.entry("\(Paths.images)/debian12.img"))
        let extents = try #require(image["extents"] as? [[String: Any]])
        #expect(!extents.isEmpty)
        let size = try #require((image["size"] as? NSNumber)?.int64Value)
        let data = extents.reduce(Int64(0)) { $0 + (($1["length"] as? NSNumber)?.int64Value ?? 0) }
        #expect(data > 0 && data < size)
        let link = try #require(scan.entry("\(Paths.images)/latest-debian.img"))
        #expect(link["kind"] as? String == "symlink")
        #expect(link["symlinkTarget"] as? String == "debian12.img")

        let files = scan.entries.filter { $0["kind"] as? String == "file" }
        #expect(scan.stats["files"] as? Int == files.count)
        #expect(scan.stats["symlinks"] as? Int == 1)
        #expect(scan.stats["excluded"] as? Int == scan.excluded.count)
        let bytes = files.reduce(Int64(0)) { $0 + (($1["size"] as? NSNumber)?.int64Value ?? 0) }
        #expect((scan.stats["bytes"] as? NSNumber)?.int64Value == bytes)
        let dataBytes = try #require((scan.stats["dataBytes"] as? NSNumber)?.int64Value)
        #expect(dataBytes < bytes)
        let digest = try #require(scan.object["treeDigest"] as? String)
        #expect(digest.count == 64)
        #expect((scan.object["trees"] as? [String])?.count == 3)
    }

    @Test("the human listing names every replicated entry and the symlink target")
    func humanListing() throws {
        let fixture = try CLIFixture()
        let json = try ScanJSON(try fixture.scan(["--json"]))
        let result = try fixture.scan([])
        #expect(result.status == 0, "\(result)")
        for path in json.entryPaths { #expect(result.stdout.contains("/" + path), "\(path) missing from the listing") }
        #expect(result.stdout.contains("latest-debian.img -> debian12.img"))
        // The digest in the summary is the JSON's.
        #expect(result.stdout.contains(try #require(json.object["treeDigest"] as? String)))
    }

    @Test("--no-builtin-rules and builtin_rules = no replicate the master's status")
    func withoutBuiltinRules() throws {
        let fixture = try CLIFixture()
        let flag = try ScanJSON(try fixture.scan(["--json", "--no-builtin-rules"]))
        #expect(flag.entryPaths.contains("\(Paths.collected)/0"))
        #expect(flag.excluded.isEmpty)

        try fixture.write("/etc/cloudmin-mirror/cloudmin-mirror.conf", "builtin_rules = no\n")
        let config = try ScanJSON(try fixture.scan(["--json"]))
        #expect(config.entryPaths.contains("\(Paths.collected)/0"))
        // The flag's positive form overrides the configuration.
        let forced = try ScanJSON(try fixture.scan(["--json", "--builtin-rules"]))
        #expect(forced.excludedPaths.contains("\(Paths.collected)/0"))
    }

    @Test("user rules from --rules and from the configured rules file apply after the built-in ones")
    func userRules() throws {
        let fixture = try CLIFixture()
        let rules = try fixture.rulesFile("# mine\n- /\(Paths.config)/plans/\n+ /\(Paths.collected)/0\n")
        let scan = try ScanJSON(try fixture.scan(["--json", "--rules", rules]))
        #expect(scan.excludedPaths.contains("\(Paths.config)/plans"))
        #expect(!scan.entryPaths.contains("\(Paths.config)/plans/1.plan"))
        // A user include cannot bring back what the built-in rules keep on the master.
        #expect(scan.excludedPaths.contains("\(Paths.collected)/0"))

        try fixture.write("/etc/cloudmin-mirror/rules", "- /\(Paths.config)/owners/\n")
        let configured = try ScanJSON(try fixture.scan(["--json"]))
        #expect(configured.excludedPaths.contains("\(Paths.config)/owners"))
        #expect(configured.entryPaths.contains("\(Paths.config)/plans/1.plan"))
    }

    @Test("a record the built-in rules cannot read is a warning, and the scan goes on")
    func recordWarning() throws {
        let fixture = try CLIFixture()
        try FileManager.default.createSymbolicLink(
            atPath: fixture.root.appendingPathComponent("\(Paths.config)/1371467399999.serv").path,
            withDestinationPath: "/etc/passwd")
        let result = try fixture.scan(["--json"])
        #expect(result.status == 0, "\(result)")
        let scan = try ScanJSON(result)
        #expect(scan.warnings.contains { $0["code"] as? String == "unreadableRecord" && ($0["path"] as? String)?.hasSuffix("1371467399999.serv") == true })
        #expect(result.stderr.split(separator: "\n").contains { $0.hasPrefix("warning: ") && $0.contains("1371467399999.serv") })
        #expect(scan.entry("\(Paths.config)/1371467399999.serv")?["kind"] as? String == "symlink")
    }
}

import Foundation
import Testing
import TestSupport

@Suite("scan --explain")
struct ExplainTests {
    /// Runs `--explain PATH --json` and returns the object; the run must succeed.
    func explain(_ fixture: CLIFixture, _ path: String, _ extra: [String] = []) throws -> [String: Any] {
        let result = try fixture.scan(["--explain", path, "--json"] + extra)
        #expect(result.status == 0, "\(result)")
        return try result.jsonObject()
    }

    @Test("a guest's status is replicated; its record is excluded by a built-in rule")
    func builtIn() throws {
        let fixture = try CLIFixture()
        let status = try explain(fixture, "/\(Paths.collected)/\(Paths.guestOnMaster)")
        #expect(status["state"] as? String == "replicated")
        #expect(status["replicated"] as? Bool == true)
        #expect(status["rule"] == nil || status["rule"] is NSNull)
        #expect(status["kind"] as? String == "file")

        // Root-relative spelling, same answer as Cloudmin's absolute path.
        let record = try explain(fixture, "\(Paths.config)/\(Paths.guestOnMaster).serv")
        #expect(record["state"] as? String == "excluded")
        #expect(record["replicated"] as? Bool == false)
        #expect(record["ruleOrigin"] as? String == "builtIn")
        #expect(record["relativePath"] as? String == "\(Paths.config)/\(Paths.guestOnMaster).serv")
    }

    @Test("a path inside an excluded directory names that directory")
    func insideExcludedDirectory() throws {
        let fixture = try CLIFixture()
        let history = try explain(fixture, "/\(Paths.config)/\(Paths.guestOnMaster)/history")
        #expect(history["state"] as? String == "excluded")
        #expect(history["excludedAncestor"] as? String == "\(Paths.config)/\(Paths.guestOnMaster)")
        #expect(history["ruleOrigin"] as? String == "builtIn")
    }

    @Test("a user rule from --rules decides, and names its file and line")
    func userRule() throws {
        let fixture = try CLIFixture()
        let rules = try fixture.rulesFile("# mine\n- /\(Paths.config)/plans/\n")
        let plan = try explain(fixture, "/\(Paths.config)/plans/1.plan", ["--rules", rules])
        #expect(plan["state"] as? String == "excluded")
        #expect(plan["ruleOrigin"] as? String == "user")
        #expect(plan["excludedAncestor"] as? String == "\(Paths.config)/plans")
        #expect((plan["rule"] as? String)?.contains("\(rules):2") == true)
        // Without the rules file, the same plan is replicated.
        #expect(try explain(fixture, "/\(Paths.config)/plans/1.plan")["state"] as? String == "replicated")
    }

    @Test("paths outside the trees, below a symlink, or not existing yet")
    func otherStates() throws {
        let fixture = try CLIFixture()
        #expect(try explain(fixture, "/etc/passwd")["state"] as? String == "outsideTrees")
        let below = try explain(fixture, "/\(Paths.images)/latest-debian.img/x")
        #expect(below["state"] as? String == "belowSymlink")
        #expect(below["symlink"] as? String == "\(Paths.images)/latest-debian.img")
        let future = try explain(fixture, "/\(Paths.collected)/1371467300999.lock")
        #expect(future["kind"] as? String == "missing")
        #expect(future["state"] as? String == "excluded")
    }

    @Test("the human form exits 0 for an excluded path and prints one line")
    func humanForm() throws {
        let fixture = try CLIFixture()
        for path in ["/\(Paths.collected)/0", "/\(Paths.collected)/\(Paths.remoteGuest)"] {
            let result = try fixture.scan(["--explain", path])
            #expect(result.status == 0, "\(result)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix(path + ":") == true)
        }
    }

    @Test("a path leaving the root is an argument error")
    func dotDot() throws {
        let fixture = try CLIFixture()
        let result = try fixture.scan(["--explain", "/\(Paths.config)/../../../etc/shadow"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
    }
}

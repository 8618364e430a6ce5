#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

/// `catch-up` and `verify` run as the built binary against a replica behind a real sshd.
@Suite struct CatchUpVerifyCLITests {
    /// A master root (the fixture) and a replica root set up with the tool itself, the replica
    /// behind a loopback sshd, added as `dr1` with its initial copy made.
    final class Setup {
        let scratch: ScratchDirectory
        let master: String
        let replica: String
        let server: SSHServer

        init() throws {
            scratch = try ScratchDirectory(prefix: "cm-catchup-cli")
            master = scratch.file("master")
            replica = scratch.file("replica")
            try FileManager.default.createDirectory(atPath: replica, withIntermediateDirectories: true)
            _ = try Fixtures.materializeSmall(into: URL(fileURLWithPath: master))
            let key = try Self.ok(["master", "key", "--root", master])
            let pub = scratch.file("master.pub")
            try key.stdout.write(toFile: pub, atomically: true, encoding: .utf8)
            let authorizedKeys = scratch.file("authorized_keys")
            try Self.ok(["replica", "init", "--root", replica, "--master-key", pub, "--authorized-keys", authorizedKeys,
                         "--serve-command", try CLIRunner.binary().path])
            let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
            server = try SSHServer.start(authorizedKeys: lines)
            try Self.ok(["master", "add-replica", "dr1", "--root", master, "--host", "127.0.0.1", "--port", String(server.port),
                         "--user", server.user, "--host-key", server.hostKeyFingerprint])
        }

        @discardableResult
        static func ok(_ arguments: [String]) throws -> CLIRunner.Result {
            let r = try CLIRunner.run(arguments)
            guard r.status == 0 else { throw SetupStepFailed(step: arguments.prefix(2).joined(separator: " "), result: r) }
            return r
        }

        func tool(_ arguments: [String]) throws -> CLIRunner.Result {
            try CLIRunner.run(arguments + ["--root", master])
        }

        var roleFile: String { replica + "/var/lib/cloudmin-mirror/role.json" }
    }

    @Test func catchUpAfterAnOutageReportsTheLagAndConverges() throws {
        let setup = try Setup()
        // The replica refuses replication for two churn cycles (its role record is away).
        try FileManager.default.moveItem(atPath: setup.roleFile, toPath: setup.roleFile + ".away")
        for seed in 1...2 {
            _ = try Fixtures.churn(URL(fileURLWithPath: setup.master), seed: seed)
            let failed = try setup.tool(["sync"])
            #expect(failed.status == 2, "\(failed)")
        }
        try FileManager.default.moveItem(atPath: setup.roleFile + ".away", toPath: setup.roleFile)

        let dry = try setup.tool(["catch-up", "dr1", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry)")
        let planned = try dry.jsonObject()
        #expect(planned["behind"] as? Int == 2)
        #expect((planned["itemized"] as? [String])?.isEmpty == false)
        #expect(planned["filesSent"] as? Int == 0)

        let run = try setup.tool(["catch-up", "dr1", "--json"])
        #expect(run.status == 0, "\(run)")
        let done = try run.jsonObject()
        #expect(done["behind"] as? Int == 2)
        #expect(done["generation"] as? Int == done["masterGeneration"] as? Int)
        #expect((done["filesSent"] as? Int ?? 0) + (done["deltasSent"] as? Int ?? 0) > 0)
        #expect(done["secondsSinceLastSuccess"] as? NSNumber != nil)

        let status = try setup.tool(["status", "--json"]).jsonObject()
        let dr1 = try #require((status["replicas"] as? [[String: Any]])?.first)
        #expect(dr1["behind"] as? Int == 0)
        #expect(try setup.tool(["verify", "dr1"]).status == 0)
    }

    @Test func catchUpOfAnUnreachableReplicaExitsTwo() throws {
        let setup = try Setup()
        setup.server.stop()
        let r = try setup.tool(["catch-up", "dr1"])
        #expect(r.status == 2, "\(r)")
        #expect(!r.stderr.isEmpty)
    }

    @Test func verifyFindsAHandEditThatSyncMissesAndRepairFixesIt() throws {
        let setup = try Setup()
        #expect(try setup.tool(["verify", "dr1"]).status == 0)

        let path = "etc/webmin/server-manager/1371467300013.serv"
        let file = setup.replica + "/" + path
        var info = stat()
        #expect(lstat(file, &info) == 0)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        var times = [info.st_atim, info.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)

        let sync = try setup.tool(["sync"])
        #expect(sync.status == 0)
        let verify = try setup.tool(["verify", "dr1", "--json"])
        #expect(verify.status == 1, "\(verify)")
        let report = try verify.jsonObject()
        #expect(report["clean"] as? Bool == false)
        let drift = try #require(report["drift"] as? [[String: Any]])
        #expect(drift.map { $0["path"] as? String } == [path])
        #expect(drift.first?["kinds"] as? [String] == ["content"])

        let repair = try setup.tool(["verify", "dr1", "--repair"])
        #expect(repair.status == 0, "\(repair)")
        #expect(try setup.tool(["verify", "dr1"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(contentsOf: URL(fileURLWithPath: setup.master + "/" + path)))
    }

    @Test func verifyOfAnUnknownReplicaExitsTwo() throws {
        let setup = try Setup()
        let r = try setup.tool(["verify", "nosuch"])
        #expect(r.status == 2, "\(r)")
    }
}

/// A setup command of the tool failed.
struct SetupStepFailed: Error, CustomStringConvertible {
    var step: String
    var result: CLIRunner.Result
    var description: String { "\(step): \(result)" }
}

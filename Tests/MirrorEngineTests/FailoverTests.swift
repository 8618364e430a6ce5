import Foundation
import LoopbackSSHD
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// `replica promote` and `master disable` on real roots (replicas filled by real runs over a
/// socket pair), the old master's port answered by a real sshd.
@Suite struct FailoverTests {
    /// A pair whose replica r1 holds generation 1, with `masterHost` recorded.
    private func syncedPair(masterHost: String?) throws -> LocalReplicaPair {
        let pair = try LocalReplicaPair()
        #expect(try pair.mirrorRun().run(RunOptions()).replicas[0].ok)
        let replica = try MirrorContext(root: pair.replicaRoot)
        var role = try RoleRecord.load(stateDirectory: replica.stateDirectory)
        role.masterHost = masterHost
        try role.save(stateDirectory: replica.stateDirectory)
        return pair
    }

    private func failoverCode(_ body: () throws -> Void) -> FailoverError.Code? {
        do { try body() } catch let e as FailoverError { return e.code } catch { return nil }
        return nil
    }

    @Test func promoteRefusesWhileTheOldMasterAnswersAndSucceedsWithForce() throws {
        let oldMaster = try SSHServer.start(authorizedKeys: [])
        defer { oldMaster.stop() }
        let pair = try syncedPair(masterHost: "127.0.0.1:\(oldMaster.port)")
        let replica = try MirrorContext(root: pair.replicaRoot)
        let keys = AuthorizedKeys(path: pair.scratch.file("authorized_keys"))
        let code = failoverCode { _ = try Promotion.promote(context: replica, force: false, authorizedKeys: keys) }
        #expect(code == .oldMasterAnswers)
        // Nothing changed: still a replica, no master state.
        #expect(try RoleRecord.load(stateDirectory: replica.stateDirectory).role == .replica)
        #expect(!FileManager.default.fileExists(atPath: replica.stateDirectory + "/master/master.json"))

        let outcome = try Promotion.promote(context: replica, force: true, authorizedKeys: keys)
        #expect(outcome.oldMasterAnswered)
        let role = try RoleRecord.load(stateDirectory: replica.stateDirectory)
        #expect(role.role == .master && role.lineage == "lineage-test")
        let record = try #require(try MasterState(stateDirectory: replica.stateDirectory).record())
        #expect(record.lineage == "lineage-test" && record.generation == 1)
        #expect(record.treeDigest == (try pair.masterManifest().treeDigest))
    }

    @Test func promoteProceedsWhenTheOldMasterIsSilentOrUnrecorded() throws {
        for host in ["127.0.0.1:\(try SSHServer.freePort())", nil] {
            let pair = try syncedPair(masterHost: host)
            let replica = try MirrorContext(root: pair.replicaRoot)
            let outcome = try Promotion.promote(context: replica, force: false, authorizedKeys: nil)
            #expect(!outcome.oldMasterAnswered)
            #expect(outcome.oldMasterAddress == host)
            #expect(outcome.generation == 1)
            #expect(try RoleRecord.load(stateDirectory: replica.stateDirectory).role == .master)
            // Its replica staging area is gone; its trees are untouched.
            #expect(!FileManager.default.fileExists(atPath: replica.stateDirectory + "/replica"))
            #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
        }
    }

    @Test func promoteRefusesOnAMasterOrAPlainHostOrAnEmptyReplica() throws {
        let pair = try LocalReplicaPair()
        #expect(failoverCode { _ = try Promotion.promote(context: try pair.master, force: true, authorizedKeys: nil) } == .notReplica)
        let plain = pair.scratch.file("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        #expect(failoverCode { _ = try Promotion.promote(context: try MirrorContext(root: plain), force: true, authorizedKeys: nil) } == .notReplica)
        // r1 never received a generation.
        let empty = try MirrorContext(root: pair.replicaRoot)
        #expect(failoverCode { _ = try Promotion.promote(context: empty, force: false, authorizedKeys: nil) } == .noGeneration)
        #expect(try RoleRecord.load(stateDirectory: empty.stateDirectory).role == .replica)
    }

    @Test func promoteRemovesOnlyTheReplicationEntry() throws {
        let pair = try syncedPair(masterHost: nil)
        let keys = AuthorizedKeys(path: pair.scratch.file("authorized_keys"))
        let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOther admin@laptop"
        try (other + "\n").write(toFile: keys.path, atomically: true, encoding: .utf8)
        try keys.install(entry: AuthorizedKeys.entry(for: pair.masterKey, command: "/bin/true"))
        let outcome = try Promotion.promote(context: try MirrorContext(root: pair.replicaRoot), force: false, authorizedKeys: keys)
        #expect(outcome.removedOldMasterAccess)
        #expect(try keys.entries().isEmpty)
        #expect(try String(contentsOfFile: keys.path, encoding: .utf8) == other + "\n")
    }

    @Test func aDisabledMasterRefusesToSyncUntilUndone() throws {
        let pair = try LocalReplicaPair()
        #expect(try pair.mirrorRun().run(RunOptions()).replicas[0].ok)
        let before = try pair.replicaManifest().treeDigest
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 3)
        let role = try MasterDisable.disable(context: try pair.master)
        #expect(role.role == .master && role.disabled == true)
        #expect(failoverCode { _ = try pair.mirrorRun().run(RunOptions()) } == .disabled)
        #expect(try pair.replicaManifest().treeDigest == before, "a disabled master sent nothing")

        _ = try MasterDisable.disable(context: try pair.master, undo: true)
        #expect(try pair.mirrorRun().run(RunOptions()).replicas[0].ok)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func disableRefusesOnAReplica() throws {
        let pair = try LocalReplicaPair()
        let replica = try MirrorContext(root: pair.replicaRoot)
        #expect(failoverCode { _ = try MasterDisable.disable(context: replica) } == .notMaster)
        let pub = pair.scratch.file("k.pub")
        try (pair.masterKey.line + "\n").write(toFile: pub, atomically: true, encoding: .utf8)
        #expect(failoverCode {
            _ = try MasterDisable.becomeReplica(context: replica, key: pair.masterKey, authorizedKeys: AuthorizedKeys(path: pair.scratch.file("ak")),
                                                executable: "/usr/bin/true", root: pair.replicaRoot, config: nil, masterHost: nil)
        } == .notMaster)
    }

    @Test func masterAddressesParse() throws {
        let good: [(String, String, Int)] = [("m.example.net", "m.example.net", 22), ("10.0.0.1:2222", "10.0.0.1", 2222),
                                             ("[2001:db8::1]", "2001:db8::1", 22), ("[::1]:2200", "::1", 2200)]
        for (text, host, port) in good {
            let a = try MasterAddress(parsing: text)
            #expect(a.host == host && a.port == port, "\(text)")
            #expect(try MasterAddress(parsing: a.description) == a)
        }
        for text in ["", "::1", "h:0", "h:70000", "h:x", "[::1", "h h", "h;rm"] {
            #expect(failoverCode { _ = try MasterAddress(parsing: text) } == .badAddress, "\(text)")
        }
    }

    @Test func roleRecordsWithoutTheNewFieldsStillLoad() throws {
        let scratch = try ScratchDirectory(prefix: "cm-role")
        try #"{"role":"master","lineage":"L","since":1}"#.write(toFile: scratch.file("role.json"), atomically: true, encoding: .utf8)
        let role = try RoleRecord.load(stateDirectory: scratch.path)
        #expect(role.role == .master && role.disabled == nil && role.masterHost == nil)
    }
}

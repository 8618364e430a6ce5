import Foundation
@testable import MirrorEngine
import SSHTransport
import TestSupport
import Testing
import TreeDiff

/// Master and replica through a real sshd with the forced-command entry: the product as on two hosts.
@Suite struct SSHEndToEndTests {
    @Test func addReplicaCopiesEverythingThenChurnSendsLittle() throws {
        let pair = try SSHReplicaPair()
        try pair.addReplica()
        let first = try pair.sync()
        #expect(first.ok, "\(first.error ?? "")")
        let master = try pair.masterManifest()
        let replica = try pair.replicaManifest()
        // Byte for byte, and in mode, owner, mtime and symlink target (the tree digest covers them).
        #expect(replica.treeDigest == master.treeDigest)
        // Sparseness: the images on the replica have holes where the master's do.
        for entry in master.entries where !entry.extents.isEmpty {
            let copy = try #require(replica[entry.path])
            #expect(copy.extents.reduce(0) { $0 + $1.length } <= entry.extents.reduce(0) { $0 + $1.length } + 65536, "\(entry.path) lost its holes")
        }
        // Nothing excluded exists on the replica.
        let context = try pair.master
        let (filter, _) = try MirrorRun(context: context).filter()
        for excluded in try Scanner(root: pair.masterRoot, trees: context.trees, filter: filter).scan().excluded {
            #expect(!FileManager.default.fileExists(atPath: pair.replicaRoot + "/" + excluded.path), "\(excluded.path) was replicated")
        }

        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 5)
        let second = try pair.sync()
        #expect(second.ok, "\(second.error ?? "")")
        #expect(second.bytesSent < first.bytesSent)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)

        let third = try pair.sync()
        #expect(third.upToDate)
    }

    /// kill -9 of the replica's commit at every one of its steps: the live trees are exactly
    /// generation N or N+1, and the next run converges.
    @Test func killedCommitLeavesOneGenerationAndTheNextRunConverges() throws {
        let pair = try SSHReplicaPair()
        try pair.addReplica()
        #expect(try pair.sync().ok)
        var seed = 10
        // Crash points spread over every phase of the commit: staging (one point per file),
        // the journal write, each applied step, the final record. Points grow by ~1.4x so a
        // few dozen trials reach the end of a commit of a few hundred steps.
        var points: [Int] = []
        var p = 1.0
        while p < 5000 { points.append(Int(p)); p = max(p + 1, p * 1.4) }
        var trials = 0
        var sawOld = false, sawNew = false
        for trial in points {
            let old = try pair.replicaManifest().treeDigest
            _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: seed)
            seed += 1
            let new = try pair.masterManifest().treeDigest
            try pair.crashNextCommit(at: trial)
            let crashed = try pair.sync()
            if crashed.ok { break }  // the commit has fewer steps than `trial`: every phase was covered
            trials += 1
            // The next replica command finishes or rolls back the journal first: run that recovery
            // the way any replica command does, then look at the live trees.
            let replica = try MirrorContext(root: pair.replicaRoot)
            try ReplicaStore(stateDirectory: replica.stateDirectory, root: pair.replicaRoot, trees: replica.trees).recover()
            let held = try pair.replicaManifest().treeDigest
            #expect(held == old || held == new, "trial \(trial): the replica holds a mix of two generations")
            if held == old { sawOld = true } else if held == new { sawNew = true }
            let next = try pair.sync()
            #expect(next.ok, "trial \(trial): \(next.error ?? "")")
            #expect(try pair.replicaManifest().treeDigest == new, "trial \(trial): did not converge")
        }
        #expect(trials > 3)
        #expect(sawOld && sawNew, "crashes before and after the commit point were both exercised")
    }

    @Test func aHostThatIsNotAReplicaIsRefusedBeforeAnyWrite() throws {
        let pair = try SSHReplicaPair(replicaInit: false)
        #expect(throws: MasterSetup.Refusal.self) { try pair.addReplica() }
        #expect(try pair.replicaManifest().count == 0)
        #expect(try pair.master.config.replicas.isEmpty)
    }

    @Test func aChangedHostKeyIsRefused() throws {
        let pair = try SSHReplicaPair()
        try pair.addReplica()
        #expect(try pair.sync().ok)
        try pair.restartWithNewHostKey()
        // The pinned key no longer matches: the run fails and nothing moves.
        var config = try pair.master.configFile
        try config.removeReplica(named: "dr1")
        try config.addReplica(ReplicaConfig(name: "dr1", host: "127.0.0.1", port: pair.server.port, user: pair.server.user))
        try config.save()
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 9)
        let before = try pair.replicaManifest().treeDigest
        let r = try pair.sync()
        #expect(!r.ok)
        #expect(try pair.replicaManifest().treeDigest == before)
    }

    @Test func aWrongExpectedHostKeyIsRefusedAtAddReplica() throws {
        let pair = try SSHReplicaPair()
        #expect(throws: SSHError.self) { try pair.addReplica(expectedHostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") }
        #expect(try pair.master.config.replicas.isEmpty)
    }
}

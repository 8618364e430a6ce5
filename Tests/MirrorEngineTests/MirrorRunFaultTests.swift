import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// Failures on the way: a cut link, a replica that lost its state, several replicas.
@Suite struct MirrorRunFaultTests {
    /// Cut the link at many points of a churn run: the replica keeps generation N, reports the
    /// failure, and the next run converges sending no more than a clean run would.
    @Test func cutLinkLeavesLiveTreesUntouchedAndTheNextRunConverges() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 3)
        // How much a clean run of this churn sends, measured on a twin.
        let twin = try LocalReplicaPair()
        _ = try twin.mirrorRun().run(RunOptions())
        _ = try Fixtures.churn(URL(fileURLWithPath: twin.masterRoot), seed: 3)
        let clean = try #require(try twin.mirrorRun().run(RunOptions()).replicas.first)
        #expect(clean.ok)

        let before = try pair.replicaManifest()
        var cuts = 0
        for limit in stride(from: 200, to: Int(clean.bytesSent), by: max(1, Int(clean.bytesSent) / 12)) {
            let r = try #require(try pair.cutRun(after: limit).run(RunOptions()).replicas.first)
            if r.ok { break }  // the cut came after the commit: the replica is already there
            cuts += 1
            #expect(try pair.replicaManifest().treeDigest == before.treeDigest, "cut at \(limit) changed the live trees")
        }
        #expect(cuts > 0)
        let next = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(next.ok, "\(next.error ?? "")")
        #expect(next.bytesSent <= clean.bytesSent)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    /// What arrived before a cut stays staged on the replica and is not sent again.
    @Test func aCutTransferResumesWithoutResendingWhatArrived() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 4)
        let twin = try LocalReplicaPair()
        _ = try twin.mirrorRun().run(RunOptions())
        _ = try Fixtures.churn(URL(fileURLWithPath: twin.masterRoot), seed: 4)
        let clean = try #require(try twin.mirrorRun().run(RunOptions()).replicas.first)

        let cut = try #require(try pair.cutRun(after: Int(clean.bytesSent) / 4).run(RunOptions()).replicas.first)
        #expect(!cut.ok)
        let replica = try MirrorContext(root: pair.replicaRoot)
        let staged = try ReplicaStore(stateDirectory: replica.stateDirectory, root: pair.replicaRoot, trees: replica.trees)
            .objects.inventory().complete.count
        #expect(staged > 0)
        let next = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(next.ok, "\(next.error ?? "")")
        #expect(next.filesSent + next.deltasSent == clean.filesSent + clean.deltasSent - staged)
        #expect(next.bytesSent < clean.bytesSent)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    /// A replica whose trees no longer match the master's record (restored from an older
    /// backup, edited by hand) is caught up from its own manifest.
    @Test func replicaRestoredFromBackupIsCaughtUp() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        let backup = pair.scratch.file("backup")
        try FileManager.default.copyItem(atPath: pair.replicaRoot, toPath: backup)
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 1)
        _ = try pair.mirrorRun().run(RunOptions())
        // Put the old generation back, and damage a file by hand too.
        try FileManager.default.removeItem(atPath: pair.replicaRoot)
        try FileManager.default.copyItem(atPath: backup, toPath: pair.replicaRoot)
        let victim = try #require(try pair.replicaManifest().entries.first { $0.kind == .file && $0.size > 0 })
        try Data("hand edit".utf8).write(to: URL(fileURLWithPath: pair.replicaRoot + "/" + victim.path))

        let r = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(r.fetchedManifest)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    /// Two replicas: both converge; a replica that fails does not stop the other.
    @Test func fanOutAndOneFailingReplica() throws {
        let pair = try LocalReplicaPair(replicas: ["r1", "r2"])
        let first = try pair.mirrorRun().run(RunOptions())
        #expect(first.failed.isEmpty)
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 2)
        // r2 stops being a replica of this master.
        let r2 = try MirrorContext(root: pair.replicaRoot("r2"))
        try RoleRecord(role: .replica, masterFingerprint: "SHA256:other").save(stateDirectory: r2.stateDirectory)
        let second = try pair.mirrorRun().run(RunOptions())
        #expect(second.failed == ["r2"])
        #expect(try pair.replicaManifest("r1").treeDigest == pair.masterManifest().treeDigest)
        #expect(try pair.replicaManifest("r2").treeDigest != pair.masterManifest().treeDigest)
        let status = try StatusReport.collect(try pair.master)
        #expect(status.replicas.first { $0.name == "r2" }?.lastError != nil)
        #expect(status.replicas.first { $0.name == "r1" }?.behind == 0)
    }
}

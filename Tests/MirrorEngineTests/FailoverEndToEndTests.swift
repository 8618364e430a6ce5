import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// The failover runbook end to end, through real sshds and the built binary: master M with
/// replicas A and B; M dies; A is promoted; churn on A; B is repointed to A and caught up with
/// only the difference; M comes back, is disabled and becomes A's replica, and converges.
@Suite struct FailoverEndToEndTests {
    @Test func promoteRepointAndBringTheOldMasterBack() throws {
        let h = try FailoverHarness(replicaNames: ["a", "b"])
        let (m, a, b) = (h.master, h.replica("a"), h.replica("b"))

        // M replicates to A and B.
        let firstA = try h.addReplica(on: m, a)
        let firstB = try h.addReplica(on: m, b)
        #expect(firstA.ok && firstB.ok, "\(firstA.error ?? "") \(firstB.error ?? "")")
        let mManifest = try h.masterManifest(m)
        #expect(try h.treeManifest(a).treeDigest == mManifest.treeDigest)
        #expect(try h.treeManifest(b).treeDigest == mManifest.treeDigest)
        let mRecord = try #require(try MasterState(stateDirectory: try m.context.stateDirectory).record())

        // M dies (nothing answers at the address A recorded). Promote A with the CLI.
        a.stop()
        let promoted = try CLIRunner.run(["replica", "promote", "--root", a.root, "--authorized-keys", a.authorizedKeys])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        #expect(try a.role.role == .master)
        #expect(try a.role.lineage == mRecord.lineage)
        let aRecord = try #require(try MasterState(stateDirectory: try a.context.stateDirectory).record())
        #expect(aRecord.lineage == mRecord.lineage && aRecord.generation == mRecord.generation)
        // Its trees, seen as a master sees them, are exactly the promoted generation.
        #expect(try h.masterManifest(a).treeDigest == mRecord.treeDigest)
        #expect(try AuthorizedKeys(path: a.authorizedKeys).entries().isEmpty, "the old master's key can no longer log in")

        // Churn on the new master.
        _ = try Fixtures.churn(URL(fileURLWithPath: a.root), seed: 21)
        let aAfterChurn = try h.masterManifest(a)
        #expect(aAfterChurn.treeDigest != mRecord.treeDigest)

        // B accepts A (CLI), and A's add-replica sends only what B lacks.
        let aKey = try h.keyFile(of: a)
        let repointed = try CLIRunner.run(["replica", "set-master", "--root", b.root, "--master-key", aKey,
                                           "--authorized-keys", b.authorizedKeys, "--serve-command", h.binary])
        #expect(repointed.status == 0, "\(repointed.stderr)")
        try b.serve()
        let bLacks = FailoverHarness.digests(aAfterChurn).subtracting(FailoverHarness.digests(try h.treeManifest(b)))
        let toB = try h.addReplica(on: a, b)
        #expect(toB.ok, "\(toB.error ?? "")")
        #expect(toB.fetchedManifest)
        #expect(toB.previousGeneration == mRecord.generation)
        #expect(toB.generation > mRecord.generation)
        #expect(toB.filesSent + toB.deltasSent > 0)
        #expect(toB.filesSent + toB.deltasSent <= bLacks.count, "content B already held was sent again")
        // B held most content already (big images among it) and none of that was sent again;
        // the churn rewrote every status file, so those do go.
        #expect(bLacks.count < FailoverHarness.digests(aAfterChurn).count)
        #expect(aAfterChurn.entries.contains { $0.size >= ReplicaSync.deltaThreshold && !bLacks.contains($0.digest!) },
                "an image B already held is part of what was not resent")
        #expect(toB.bytesSent * 2 < firstB.bytesSent, "\(toB.bytesSent) bytes vs \(firstB.bytesSent) for the full copy")
        #expect(try h.treeManifest(b).treeDigest == aAfterChurn.treeDigest)

        // M comes back: it is disabled and becomes A's replica (CLI), keeping its trees.
        let disabled = try CLIRunner.run(["master", "disable", "--root", m.root, "--become-replica-of", aKey,
                                          "--authorized-keys", m.authorizedKeys, "--serve-command", h.binary])
        #expect(disabled.status == 0, "\(disabled.stderr)")
        #expect(try m.role.role == .replica)
        #expect(try m.role.masterFingerprint == MasterSetup.ensureKey(try a.context).fingerprint)
        // It no longer sends.
        #expect(throws: RunError.self) { try MirrorRun(context: try m.context).run(RunOptions()) }
        try m.serve()
        let mLacks = FailoverHarness.digests(aAfterChurn).subtracting(FailoverHarness.digests(try h.treeManifest(m)))
        let toM = try h.addReplica(on: a, m)
        #expect(toM.ok, "\(toM.error ?? "")")
        #expect(toM.filesSent + toM.deltasSent <= mLacks.count, "content M already held was sent again")
        #expect(toM.bytesSent < firstA.bytesSent, "\(toM.bytesSent) bytes vs \(firstA.bytesSent) for a full copy")
        #expect(try h.treeManifest(m).treeDigest == aAfterChurn.treeDigest)

        // The next run from A finds both replicas up to date.
        let next = try MirrorRun(context: try a.context).run(RunOptions())
        #expect(next.replicas.count == 2 && next.replicas.allSatisfy(\.upToDate))
    }
}

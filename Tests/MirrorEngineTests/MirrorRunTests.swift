import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// The replication engine end to end over a socket pair (the SSH path has its own tests).
@Suite struct MirrorRunTests {
    @Test func initialCopyChurnAndNoChange() throws {
        let pair = try LocalReplicaPair()
        let first = try pair.mirrorRun().run(RunOptions())
        let r1 = try #require(first.replicas.first)
        #expect(r1.ok, "\(r1.error ?? "")")
        #expect(r1.fetchedManifest)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
        #expect(r1.generation == first.generation)

        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 7)
        let second = try pair.mirrorRun().run(RunOptions())
        let r2 = try #require(second.replicas.first)
        #expect(r2.ok, "\(r2.error ?? "")")
        #expect(second.generation == first.generation + 1)
        #expect(!r2.fetchedManifest)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
        #expect(r2.bytesSent < r1.bytesSent)
        #expect(r2.deltasSent >= 1)  // the image written to goes as a librsync delta

        let third = try pair.mirrorRun().run(RunOptions())
        let r3 = try #require(third.replicas.first)
        #expect(r3.upToDate)
        #expect(third.generation == second.generation)
    }

    @Test func aSmallChangeSendsTheManifestsChangesOnly() throws {
        let pair = try LocalReplicaPair()
        #expect(try #require(try pair.mirrorRun().run(RunOptions()).replicas.first).ok)
        let record = pair.masterRoot + "/etc/webmin/server-manager/1371467200101.serv"
        try "id=1371467300339\nhost=changed.example.com\n".write(toFile: record, atomically: false, encoding: .utf8)
        let r = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(r.filesSent == 1)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
        // The whole manifest would be most of the bytes; its changes are two entries.
        #expect(r.bytesSent < Int64(try pair.masterManifest().replicated.encoded().count / 4))
    }

    @Test func dryRunChangesNothing() throws {
        let pair = try LocalReplicaPair()
        var options = RunOptions()
        options.dryRun = true
        let result = try pair.mirrorRun().run(options)
        let r = try #require(result.replicas.first)
        #expect(r.ok)
        #expect(!r.itemized.isEmpty)
        #expect(try pair.replicaManifest().count == 0)
    }

    @Test func excludedPathsNeverReachTheReplica() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        let context = try pair.master
        let (filter, _) = try MirrorRun(context: context).filter()
        let scan = try Scanner(root: pair.masterRoot, trees: context.trees, filter: filter).scan()
        #expect(!scan.excluded.isEmpty)
        for excluded in scan.excluded {
            #expect(!FileManager.default.fileExists(atPath: pair.replicaRoot + "/" + excluded.path), "\(excluded.path)")
        }
    }

    @Test func aReplicaOfAnotherMasterIsRefusedBeforeAnyWrite() throws {
        let pair = try LocalReplicaPair()
        let result = try pair.mirrorRun(serverFingerprint: "SHA256:someoneElse").run(RunOptions())
        let r = try #require(result.replicas.first)
        #expect(!r.ok)
        #expect(try pair.replicaManifest().count == 0)
    }
}

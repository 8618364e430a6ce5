import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// Warm sessions over the real thing: OpenSSH's sshd on loopback running `replica serve`.
@Suite struct WarmSessionSSHTests {
    @Test func runsShareOneSSHSessionAndLeaveTheReplicaUnlockedBetweenRuns() throws {
        let pair = try SSHReplicaPair()
        try pair.addReplica()
        let pool = ConnectionPool()
        var connects = 0
        func run() throws -> ReplicaRunResult {
            let run = MirrorRun(context: try pair.master)
            run.connector = { replica, context in
                connects += 1
                return try ReplicaSync.sshConnector(replica, context)
            }
            run.pool = pool
            return try #require(run.run(RunOptions()).replicas.first)
        }
        let first = try run()
        #expect(first.ok, "\(first.error ?? "")")
        // The replica's serve process sits idle on the open session: its lock must be free
        // (promotion there takes it).
        let replica = try MirrorContext(root: pair.replicaRoot)
        try withExtendedLifetime(replica.lock(waitSeconds: 10)) {}

        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 21)
        let second = try run()
        #expect(second.ok, "\(second.error ?? "")")
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)

        let third = try run()
        #expect(third.ok, "\(third.error ?? "")")
        #expect(third.upToDate)
        #expect(third.bytesSent < 512)
        #expect(connects == 1)
        pool.closeAll()
        #expect(pool.idleReplicas.isEmpty)
    }
}

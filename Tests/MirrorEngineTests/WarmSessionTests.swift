import Foundation
@testable import MirrorEngine
import SystemPackage
import TestSupport
import Testing
import TreeDiff

/// Runs through a `ConnectionPool` over LocalReplicaPair's socket pairs, counting connections.
final class WarmHarness {
    let pair: LocalReplicaPair
    let pool: ConnectionPool
    private(set) var connects = 0
    /// The master end of every connection opened, newest last.
    private(set) var sockets: [Int32] = []

    init(pool: ConnectionPool = ConnectionPool()) throws {
        pair = try LocalReplicaPair()
        self.pool = pool
    }

    /// A daemon-style run: a fresh MirrorRun on the shared pool.
    func run(cutAfter limit: Int? = nil) throws -> ReplicaRunResult {
        let run = try limit.map { try pair.cutRun(after: $0) } ?? pair.mirrorRun()
        let plain = run.connector
        run.connector = { replica, context in
            let c = try plain(replica, context)
            self.connects += 1
            if let s = c.stream as? CuttingStream { self.sockets.append(s.fd) }
            if let s = c.stream as? FileDescriptorStream { self.sockets.append(s.output.rawValue) }
            return c
        }
        run.pool = pool
        return try #require(run.run(RunOptions()).replicas.first)
    }

    func converged() throws -> Bool { try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest }
}

@Suite struct WarmSessionTests {
    @Test func twoRunsShareOneConnectionAndTheSecondIsOneRoundTrip() throws {
        let h = try WarmHarness()
        let first = try h.run()
        #expect(first.ok, "\(first.error ?? "")")
        let second = try h.run()
        #expect(second.ok, "\(second.error ?? "")")
        #expect(second.upToDate)
        #expect(!second.fetchedManifest)
        #expect(h.connects == 1)
        #expect(h.pool.connectionsOpened == 1)
        #expect(h.pool.idleReplicas == ["r1"])
        // Only the hello and the end-of-run marker went out: far less than one small file.
        #expect(second.bytesSent > 0 && second.bytesSent < 512)
        #expect(second.bytesSent * 20 < first.bytesSent)
    }

    @Test func churnBetweenRunsGoesOverTheSameConnection() throws {
        let h = try WarmHarness()
        #expect(try h.run().ok)
        _ = try Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 11)
        let second = try h.run()
        #expect(second.ok, "\(second.error ?? "")")
        #expect(!second.upToDate)
        #expect(second.deltasSent + second.filesSent > 0)
        #expect(try h.converged())
        _ = try Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 12)
        let third = try h.run()
        #expect(third.ok, "\(third.error ?? "")")
        #expect(try h.converged())
        #expect(h.connects == 1)  // one zlib stream pair across three runs
    }

    @Test func theReplicaLockIsFreeBetweenRuns() throws {
        let h = try WarmHarness()
        #expect(try h.run().ok)
        #expect(h.pool.idleReplicas == ["r1"])
        // Promotion or setup on the replica takes this lock: an idle warm session must not hold it.
        let replica = try MirrorContext(root: h.pair.replicaRoot)
        let lock = try replica.lock(waitSeconds: 10)
        withExtendedLifetime(lock) {}
    }

    @Test func aLinkCutWhileIdleIsReconnectedAndConverges() throws {
        let h = try WarmHarness()
        #expect(try h.run().ok)
        let idle = try #require(h.sockets.last)
        _ = shutdown(idle, Int32(SHUT_RDWR))  // the cable goes while the connection sits in the pool
        _ = try Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 13)
        let second = try h.run()
        #expect(second.ok, "\(second.error ?? "")")
        #expect(h.connects == 2)
        #expect(try h.converged())
    }

    @Test func aLinkCutMidRunIsDroppedAndTheNextRunReconnects() throws {
        let h = try WarmHarness()
        let cut = try h.run(cutAfter: 4096)
        #expect(!cut.ok)
        #expect(h.pool.idleReplicas.isEmpty)
        let next = try h.run()
        #expect(next.ok, "\(next.error ?? "")")
        #expect(h.connects == 2)
        #expect(try h.converged())
        _ = try Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 14)
        #expect(try h.run().ok)
        #expect(h.connects == 2)
        #expect(try h.converged())
    }

    @Test func aRoleChangeBetweenRunsIsRefusedOnTheWarmConnection() throws {
        let h = try WarmHarness()
        #expect(try h.run().ok)
        let before = try h.pair.replicaManifest().treeDigest
        let replica = try MirrorContext(root: h.pair.replicaRoot)
        try RoleRecord(role: .replica, masterFingerprint: "SHA256:anotherMaster").save(stateDirectory: replica.stateDirectory)
        _ = try Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 15)
        let refused = try h.run()
        #expect(!refused.ok)
        #expect(h.connects == 1)  // refused on the warm connection itself, no reconnect
        #expect(h.pool.idleReplicas.isEmpty)
        #expect(try h.pair.replicaManifest().treeDigest == before)

        try RoleRecord(role: .master, lineage: "promoted").save(stateDirectory: replica.stateDirectory)
        let promoted = try h.run()
        #expect(!promoted.ok)
        #expect(try h.pair.replicaManifest().treeDigest == before)
    }

    /// The role is checked at hello; a role file changed after it (by hand, without the lock)
    /// must still stop the commit.
    @Test func aRoleChangeAfterHelloStillRefusesTheCommit() throws {
        let pair = try LocalReplicaPair()
        #expect(try pair.mirrorRun().run(RunOptions()).replicas[0].ok)
        let before = try pair.replicaManifest().treeDigest
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 16)
        let replica = try MirrorContext(root: pair.replicaRoot)
        let run = try pair.mirrorRun()
        let plain = run.connector
        run.connector = { config, context in
            let c = try plain(config, context)
            let stream = AfterFirstReadStream(c.stream) {
                try? RoleRecord(role: .replica, masterFingerprint: "SHA256:anotherMaster").save(stateDirectory: replica.stateDirectory)
            }
            return ReplicaConnection(stream: stream, close: c.close)
        }
        let r = try #require(run.run(RunOptions()).replicas.first)
        #expect(!r.ok)
        #expect(try pair.replicaManifest().treeDigest == before)
    }

    @Test func reloadDropsConnectionsOfChangedOrRemovedReplicas() throws {
        let h = try WarmHarness()
        #expect(try h.run().ok)
        let config = try #require(h.pair.master.config.replica(named: "r1"))
        h.pool.retain([config])
        #expect(h.pool.idleReplicas == ["r1"])
        var moved = config
        moved.port += 1
        h.pool.retain([moved])
        #expect(h.pool.idleReplicas.isEmpty)
        #expect(try h.run().ok)
        #expect(h.connects == 2)
        h.pool.retain([])
        #expect(h.pool.idleReplicas.isEmpty)
    }
}

@Suite struct BackoffTests {
    @Test func delaysDoubleFromTheSecondFailureUpToTheCap() {
        let policy = BackoffPolicy(baseSeconds: 1, capSeconds: 300)
        #expect(policy.delay(afterFailures: 0) == 0)
        #expect(policy.delay(afterFailures: 1) == 0)
        #expect(policy.delay(afterFailures: 2) == 1)
        #expect(policy.delay(afterFailures: 3) == 2)
        #expect(policy.delay(afterFailures: 4) == 4)
        #expect(policy.delay(afterFailures: 10) == 256)
        #expect(policy.delay(afterFailures: 11) == 300)
        #expect(policy.delay(afterFailures: 1000) == 300)
    }

    /// A host that cannot be reached: the pool waits longer between each attempt, and a success
    /// resets it.
    @Test func thePoolBacksOffBetweenFailedConnects() throws {
        final class Clock: @unchecked Sendable { var now = 100.0 }  // read and set on the test's thread only
        let clock = Clock()
        let pool = ConnectionPool(backoff: BackoffPolicy(baseSeconds: 1, capSeconds: 60), clock: { clock.now })
        let replica = ReplicaConfig(name: "down", host: "unreachable.invalid")
        var attempts = 0
        struct Down: Error {}
        let failing: () throws -> PooledClient = { attempts += 1; throw Down() }
        func attempt() -> Error? {
            if case .failure(let error) = Result(catching: { try pool.checkout(replica, fingerprint: "SHA256:test", open: failing) }) { return error }
            return nil
        }
        #expect(attempt() is Down)
        #expect(attempt() is Down)  // the first retry is immediate
        #expect((attempt() as? ConnectionPoolError)?.code == .backingOff)
        #expect(attempts == 2)
        clock.now += 1
        #expect(attempt() is Down)
        #expect((attempt() as? ConnectionPoolError)?.code == .backingOff)
        clock.now += 1.5
        #expect((attempt() as? ConnectionPoolError)?.code == .backingOff)  // now 2 s
        clock.now += 0.5
        #expect(attempt() is Down)
        #expect(attempts == 4)
    }
}

/// Runs `hook` once, right after the first read (the hello reply) returns.
final class AfterFirstReadStream: ByteStream {
    let inner: ByteStream
    private var hook: (() -> Void)?

    init(_ inner: ByteStream, hook: @escaping () -> Void) {
        self.inner = inner
        self.hook = hook
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        if let h = hook { hook = nil; h() }
        return n
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try inner.write(bytes) }
}

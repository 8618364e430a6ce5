import Foundation

/// How long to wait before reconnecting to a replica after consecutive connection failures:
/// the first retry is immediate, then 1 s, 2 s, 4 s, ... doubling up to `capSeconds`.
public struct BackoffPolicy: Sendable, Equatable {
    /// The wait after the second consecutive failure (the first retry is free).
    public var baseSeconds: Double
    /// The longest wait (the daemon uses its run interval).
    public var capSeconds: Double

    public init(baseSeconds: Double = 1, capSeconds: Double = 300) {
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// Seconds to wait before the next connection attempt after `failures` consecutive failures.
    public func delay(afterFailures failures: Int) -> Double {
        guard failures > 1 else { return 0 }
        let exponent = min(failures - 2, 62)
        return min(capSeconds, baseSeconds * pow(2, Double(exponent)))
    }
}

/// Why the pool gave no connection.
public struct ConnectionPoolError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable { case backingOff }
    public var code: Code
    /// The replica's name.
    public var replica: String
    /// Seconds until the next attempt is allowed.
    public var retryInSeconds: Double
    public var description: String {
        "replica \(replica): the last connection attempts failed; the next one is in \(Int(retryInSeconds.rounded(.up))) s (check the host and its sshd)"
    }
}

/// A replication connection together with the protocol client on it. They are kept as a pair:
/// the client's compression stream spans the whole connection, matched by the replica's.
final class PooledClient {
    let replica: ReplicaConfig
    /// The master key it logged in with (the replica's forced command is bound to it).
    let fingerprint: String
    let connection: ReplicaConnection
    let client: ReplicaClient
    /// Whether this connection already served a run (so a failure at hello may just mean the
    /// idle link was dropped).
    var reused = false

    init(replica: ReplicaConfig, fingerprint: String, connection: ReplicaConnection, client: ReplicaClient) {
        self.replica = replica
        self.fingerprint = fingerprint
        self.connection = connection
        self.client = client
    }

    /// Says goodbye and closes the connection.
    func close() {
        client.bye()
        connection.close()
    }
}

/// Keeps each replica's replication connection open between runs, so a run with nothing to send
/// costs one round trip instead of an SSH handshake. Connections that fail are dropped; the next
/// run reconnects, with `BackoffPolicy` between consecutive failed attempts.
///
/// Not thread-safe: the daemon uses it from its one thread, one run at a time.
public final class ConnectionPool {
    /// The wait between failed connection attempts.
    public var backoff: BackoffPolicy
    private let clock: () -> Double
    private var idle: [String: PooledClient] = [:]
    private var failures: [String: (count: Int, at: Double)] = [:]
    /// How many connections the pool opened (for logs and tests).
    public private(set) var connectionsOpened = 0

    /// - Parameters:
    ///   - backoff: the wait between failed connection attempts.
    ///   - clock: monotonic seconds.
    public init(backoff: BackoffPolicy = BackoffPolicy(), clock: @escaping () -> Double = Daemon.monotonicNow) {
        self.backoff = backoff
        self.clock = clock
    }

    deinit { closeAll() }

    /// Names of replicas with an idle connection in the pool.
    public var idleReplicas: [String] { idle.keys.sorted() }

    /// An idle connection to `replica` opened with the same configuration and master key, or a
    /// new one from `open`.
    /// - Throws: `ConnectionPoolError(.backingOff)` while waiting after failed attempts; what
    ///   `open` throws (counted as a failure).
    func checkout(_ replica: ReplicaConfig, fingerprint: String, open: () throws -> PooledClient) throws -> PooledClient {
        if let pooled = idle.removeValue(forKey: replica.name) {
            if pooled.replica == replica && pooled.fingerprint == fingerprint { return pooled }
            pooled.close()  // configuration or master key changed: reconnect with the new one
        }
        return try connect(replica, open: open)
    }

    /// A fresh connection (after backoff), counting failures.
    func connect(_ replica: ReplicaConfig, open: () throws -> PooledClient) throws -> PooledClient {
        if let last = failures[replica.name] {
            let wait = backoff.delay(afterFailures: last.count) - (clock() - last.at)
            if wait > 0 { throw ConnectionPoolError(code: .backingOff, replica: replica.name, retryInSeconds: wait) }
        }
        do {
            let pooled = try open()
            connectionsOpened += 1
            failures[replica.name] = nil
            return pooled
        } catch {
            let count = (failures[replica.name]?.count ?? 0) + 1
            failures[replica.name] = (count, clock())
            throw error
        }
    }

    /// Keeps a connection that ended its run cleanly for the next run.
    func checkin(_ pooled: PooledClient) {
        pooled.reused = true
        idle.removeValue(forKey: pooled.replica.name)?.close()
        idle[pooled.replica.name] = pooled
    }

    /// Closes the idle connection of every replica whose configuration is not in `replicas`
    /// (removed or changed), e.g. after the daemon rereads its configuration.
    public func retain(_ replicas: [ReplicaConfig]) {
        let keep = Set(replicas)
        for (name, pooled) in idle where !keep.contains(pooled.replica) {
            idle[name] = nil
            pooled.close()
        }
        let names = Set(replicas.map(\.name))
        failures = failures.filter { names.contains($0.key) }
    }

    /// Drops one replica's idle connection without a goodbye, as a cut link would (tests).
    func discardIdle(_ name: String) -> PooledClient? { idle.removeValue(forKey: name) }

    /// Says goodbye on every idle connection and closes it.
    public func closeAll() {
        let all = idle.values
        idle = [:]
        for pooled in all { pooled.close() }
    }
}

/// The payload of a `bye` frame: an empty one ends the session; `keepOpen` ends only the run,
/// so the replica releases its lock and waits for the next hello on the same connection.
/// (A replica that predates it closes the session; the master then reconnects next run.)
enum ByeMode {
    static let keepOpen: [UInt8] = [1]
}

extension ReplicaClient {
    /// Ends this run but keeps the connection for the next: the replica releases its lock.
    func rest() throws {
        try frames.send(Frame(type: MessageType.bye.rawValue, payload: ByeMode.keepOpen))
        try frames.flush()
    }
}

import Foundation

/// Connections to the run's replicas opened on background threads while the master scans,
/// so a run with a fresh connection pays max(scan, SSH handshake) instead of their sum.
///
/// `@unchecked Sendable`: the results dictionary is only touched under `lock`; a connection
/// (and its libssh2 session) is used by one thread at a time: the thread that opened it
/// until it stores it here, then the run's thread after `take` (the lock orders the two).
final class PendingConnections: @unchecked Sendable {
    private let lock = NSCondition()
    private var results: [String: Result<ReplicaConnection, any Error>] = [:]
    private var waiting: Set<String>

    /// Starts opening one connection per replica.
    init(_ replicas: [ReplicaConfig], open: @escaping (ReplicaConfig) throws -> ReplicaConnection) {
        waiting = Set(replicas.map(\.name))
        let box = OpenBox(open)
        for replica in replicas {
            let thread = Thread { [self] in
                let result = Result { try box.open(replica) }
                lock.lock()
                results[replica.name] = result
                waiting.remove(replica.name)
                lock.broadcast()
                lock.unlock()
            }
            thread.name = "connect \(replica.name)"
            thread.start()
        }
    }

    /// The connection opened for `name` (waiting for it), or nil when none was started or it
    /// was taken already.
    /// - Throws: the error opening it failed with.
    func take(_ name: String) throws -> ReplicaConnection? {
        lock.lock()
        defer { lock.unlock() }
        while waiting.contains(name) { lock.wait() }
        guard let result = results.removeValue(forKey: name) else { return nil }
        return try result.get()
    }

    /// Waits for every connection still being opened and closes those not taken (a run that
    /// stopped early).
    func closeRest() {
        lock.lock()
        while !waiting.isEmpty { lock.wait() }
        let rest = results
        results = [:]
        lock.unlock()
        for case .success(let connection) in rest.values { connection.close() }
    }
}

/// The connector, handed to the opening threads.
/// `@unchecked Sendable`: the connectors used (SSH, the tests' socket pairs) keep no state
/// between calls, so calling one from several threads at once is safe.
private final class OpenBox: @unchecked Sendable {
    let open: (ReplicaConfig) throws -> ReplicaConnection
    init(_ open: @escaping (ReplicaConfig) throws -> ReplicaConnection) { self.open = open }
}

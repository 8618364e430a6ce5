import Foundation
import SSHTransport
import TreeDiff

/// Choices for one mirror run.
public struct RunOptions: Sendable {
    /// Replica names to run for; empty means all configured replicas.
    public var replicas: [String] = []
    /// Plan and report only: nothing is sent or committed.
    public var dryRun = false
    /// Keep rsync-style itemized lines of each replica's changes in the result.
    public var itemize = false
    /// Ask the replica for its manifest even when the master's record matches (catch-up, verify).
    public var forceManifest = false
    /// Rehash every file on the replica when fetching its manifest (verify).
    public var fullRehash = false
    /// How long to wait for another run to finish; 0 refuses at once.
    public var waitSeconds: Double = 0
    /// Called on the syncing thread as files are sent (per file, and at most every 100 ms
    /// within a large file); nil reports nothing. Keep it quick: it runs inside the send loop.
    public var progress: (@Sendable (TransferProgress) -> Void)?
    public init() {}
}

/// What a run did for one replica.
public struct ReplicaRunResult: Sendable {
    public var name: String
    public var error: String?
    public var generation: UInt64 = 0
    /// The replica already held the master's trees: only a round trip was spent.
    public var upToDate = false
    /// Whether the replica's own manifest was fetched (first contact, catch-up, drift).
    public var fetchedManifest = false
    /// The replica's generation before the run.
    public var previousGeneration: UInt64 = 0
    public var summary = ChangePlan.Summary()
    public var itemized: [String] = []
    /// Bytes written to the SSH channel (protocol and data, before SSH's own framing).
    public var bytesSent: Int64 = 0
    /// Files sent whole and as deltas, and bytes they would have taken uncompressed.
    public var filesSent = 0
    public var deltasSent = 0
    public var resumedBytes: Int64 = 0
    public var seconds: Double = 0
    public var ok: Bool { error == nil }
}

/// What a run did.
public struct RunResult: Sendable {
    public var generation: UInt64
    public var treeDigest: ContentDigest
    public var scan: ScanStats
    public var warnings: [String]
    public var replicas: [ReplicaRunResult]
    public var failed: [String] { replicas.filter { !$0.ok }.map(\.name) }
}

/// Why a run could not start.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable { case notMaster, noReplicas, unknownReplica, keyUnreadable }
    public var code: Code
    public var detail: String
    public var description: String { detail }
}

/// An open replication connection to one replica.
public struct ReplicaConnection {
    public var stream: ByteStream
    public var close: () -> Void
    public init(stream: ByteStream, close: @escaping () -> Void) {
        self.stream = stream
        self.close = close
    }
}

/// One mirror run: scan, then bring each replica to the new generation.
public final class MirrorRun {
    let context: MirrorContext
    let log: (String) -> Void
    /// Opens the connection to a replica: SSH with a pinned host key, unless a test or the
    /// benchmark puts something else here.
    public var connector: (ReplicaConfig, MirrorContext) throws -> ReplicaConnection = ReplicaSync.sshConnector
    /// Where connections are kept between runs (the daemon's); nil opens and closes one per
    /// replica per run.
    public var pool: ConnectionPool?
    /// Connections opened while the run scans (runs without a pool).
    var pending: PendingConnections?
    /// Delta bytes by (base, target), so a fan-out computes each delta once.
    private var deltaCache: [String: [UInt8]] = [:]
    private var deltaCacheBytes = 0

    /// - Parameters:
    ///   - context: the master's configuration and paths.
    ///   - log: receives progress lines.
    public init(context: MirrorContext, log: @escaping (String) -> Void = { _ in }) {
        self.context = context
        self.log = log
    }

    /// The filter for this master's trees: built-in Cloudmin rules, then the user's rules file.
    public func filter() throws -> (CloudminFilter, [String]) {
        let exclusions = try context.exclusionFilter()
        return (exclusions.filter, exclusions.warnings.map { "\($0)" })
    }

    /// Scans the master's trees (quick check against the last scan) and records the scan.
    func scan(_ state: MasterState) throws -> (ScanResult, [String]) {
        let (filter, warnings) = try filter()
        let scanner = Scanner(root: context.paths.rootDirectory, trees: context.trees, filter: filter)
        let previous = state.lastScan()
        let result = try scanner.scan(previous: previous)
        // Nothing changed (stamps included): the saved scan is still right, skip the write and fsync.
        if previous != result.manifest { try state.saveScan(result.manifest) }
        return (result, warnings + result.warnings.map { "\($0)" })
    }

    /// The master key's fingerprint (from `identity` + `.pub`).
    public func masterFingerprint() throws -> String {
        let pub = context.paths.host(context.config.identity) + ".pub"
        do { return try PublicKey(file: pub).fingerprint } catch {
            throw RunError(code: .keyUnreadable, detail: "\(error)")
        }
    }

    /// Runs once.
    /// - Throws: `RunError` when the run cannot start (not a master, unknown replica name),
    ///   `RunLock.Busy` when another run holds the lock, scan errors. A replica that fails is
    ///   reported in the result, not thrown: the others still run.
    public func run(_ options: RunOptions) throws -> RunResult {
        let lock = try context.lock(waitSeconds: options.waitSeconds) { busy in self.log("waiting: \(busy)") }
        defer { withExtendedLifetime(lock) {} }
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .master else {
            throw RunError(code: .notMaster, detail: role.role == .replica
                ? "this host is a replica of master \(role.masterFingerprint ?? "?"); it does not send (promote it first)"
                : "this host is not a master yet; add a replica with `cloudmin-mirror master add-replica`")
        }
        try MasterDisable.refuseIfDisabled(role, stateDirectory: context.stateDirectory)
        let selected = try selectReplicas(options.replicas)
        let state = try MasterState(stateDirectory: context.stateDirectory)
        let fingerprint = try masterFingerprint()
        if pool == nil && !options.dryRun {
            let (connector, context) = (self.connector, self.context)
            pending = PendingConnections(selected) { try connector($0, context) }
        }
        defer { pending?.closeRest(); pending = nil }
        let (scan, warnings) = try self.scan(state)
        let manifest = scan.manifest.replicated
        var record = try state.record() ?? MasterRecord(lineage: role.lineage ?? UUID().uuidString, generation: 0, treeDigest: nil)
        let treeDigest = manifest.treeDigest
        if record.treeDigest != treeDigest {
            record.generation += 1
            record.treeDigest = treeDigest
            if !options.dryRun { try state.save(record) }
        }
        log("scanned \(scan.stats.files) files, \(scan.stats.directories) directories (\(scan.stats.filesHashed) hashed); generation \(record.generation)")
        var results: [ReplicaRunResult] = []
        for replica in selected {
            let sync = ReplicaSync(run: self, context: context, state: state, replica: replica, manifest: manifest,
                                   record: record, fingerprint: fingerprint, options: options)
            let result = sync.perform()
            record = sync.record
            results.append(result)
        }
        if !options.dryRun {
            state.pruneSignatures(keep: Set(manifest.entries.compactMap(\.digest)))
        }
        return RunResult(generation: record.generation, treeDigest: treeDigest, scan: scan.stats,
                         warnings: warnings, replicas: results)
    }

    private func selectReplicas(_ names: [String]) throws -> [ReplicaConfig] {
        let all = context.config.replicas
        guard !all.isEmpty else {
            throw RunError(code: .noReplicas, detail: "no replicas configured in \(context.configFile.path); add one with `cloudmin-mirror master add-replica`")
        }
        if names.isEmpty { return all }
        return try names.map { name in
            guard let r = context.config.replica(named: name) else {
                throw RunError(code: .unknownReplica, detail: "no replica named \(name) in \(context.configFile.path) (configured: \(all.map(\.name).joined(separator: ", ")))")
            }
            return r
        }
    }

    func cachedDelta(_ key: String) -> [UInt8]? { deltaCache[key] }
    func cacheDelta(_ key: String, _ bytes: [UInt8]) {
        guard deltaCacheBytes + bytes.count <= 256 << 20 else { return }
        deltaCache[key] = bytes
        deltaCacheBytes += bytes.count
    }
}

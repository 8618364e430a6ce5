import Foundation
import TreeDiff

/// One way a replica's path differs from what the master recorded it should hold.
public enum DriftKind: String, Sendable, Codable, CaseIterable {
    /// The master's record has it; the replica's trees do not.
    case missing
    /// The replica holds it; the master's record does not.
    case extra
    /// A file, directory or symlink became another kind.
    case type
    /// File content (by digest and size) or symlink target differs.
    case content
    /// Permission bits differ.
    case mode
    /// Owner or group differs.
    case owner
    /// Modification time differs.
    case mtime
}

/// One drifted path.
public struct DriftItem: Sendable, Hashable, Codable {
    public var path: String
    /// What differs, in `DriftKind.allCases` order.
    public var kinds: [DriftKind]
    /// An rsync `--itemize-changes`-like line: what the repair will do to the replica's path.
    public var itemized: String
}

/// What `verify` found on one replica.
public struct VerifyReport: Sendable, Codable {
    public var replica: String
    /// The generation the replica says it holds.
    public var generation: UInt64
    /// The master's current generation.
    public var masterGeneration: UInt64
    /// Entries the replica rehashed and listed.
    public var entriesChecked: Int
    public var drift: [DriftItem]
    /// No drift (stored, so `--json` carries it).
    public var clean: Bool
}

/// Why a verification could not be made.
public struct VerifyError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// This host is not a master.
        case notMaster
        /// The master has no record of the generation the replica holds.
        case noRecord
        /// The peer is not a replica of this master.
        case wrongRole
    }
    public var code: Code
    public var replica: String
    public var detail: String
    public var description: String { "replica \(replica): \(detail)" }
}

/// Checks a replica's trees against the master's record: the replica rehashes every file it
/// holds and sends its manifest; nothing is staged, committed or written in its trees.
public final class ReplicaVerifier {
    let context: MirrorContext
    let log: (String) -> Void
    /// Opens the connection to a replica (SSH with a pinned host key unless a test sets another).
    public var connector: (ReplicaConfig, MirrorContext) throws -> ReplicaConnection = ReplicaSync.sshConnector

    /// - Parameters:
    ///   - context: the master's configuration and paths.
    ///   - log: receives progress lines.
    public init(context: MirrorContext, log: @escaping (String) -> Void = { _ in }) {
        self.context = context
        self.log = log
    }

    /// Verifies one replica. Holds the run lock, so no mirror run changes the replica meanwhile.
    /// - Parameters:
    ///   - name: the replica's name in the configuration.
    ///   - waitSeconds: how long to wait for a run in progress; 0 refuses at once.
    /// - Throws: `RunError` (unknown replica, unreadable key), `RunLock.Busy`, `VerifyError`
    ///   (not a master, no record of the replica's generation, peer not a replica of this
    ///   master), and connection or protocol errors.
    public func verify(_ name: String, waitSeconds: Double = 0) throws -> VerifyReport {
        let lock = try context.lock(waitSeconds: waitSeconds) { busy in self.log("waiting: \(busy)") }
        defer { withExtendedLifetime(lock) {} }
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .master else {
            throw VerifyError(code: .notMaster, replica: name, detail: "this host is not a master; run verify on the master")
        }
        guard let replica = context.config.replica(named: name) else {
            throw RunError(code: .unknownReplica, detail: "no replica named \(name) in \(context.configFile.path) (configured: \(context.config.replicas.map(\.name).joined(separator: ", ")))")
        }
        let state = try MasterState(stateDirectory: context.stateDirectory)
        let record = try state.record()
        let fingerprint = try MirrorRun(context: context).masterFingerprint()

        let connection = try connector(replica, context)
        defer { connection.close() }
        let client = try ReplicaClient(stream: connection.stream, peer: "replica \(name)",
                                       compressionLevel: context.config.compressionLevel)
        defer { client.bye() }
        let hello = try client.hello(fingerprint: fingerprint, lineage: record?.lineage ?? role.lineage ?? "")
        guard hello.role == "replica", hello.acceptedMaster == fingerprint else {
            throw VerifyError(code: .wrongRole, replica: name, detail: "it accepts master \(hello.acceptedMaster), not this one")
        }
        let expected = try expectedManifest(name, treeDigest: hello.treeDigest, generation: hello.generation, state: state)
        log("\(name): rehashing every file on the replica (generation \(hello.generation))")
        let actual = try client.manifest(fullRehash: true).replicated
        let drift = Self.compare(expected: expected, actual: actual)
        return VerifyReport(replica: name, generation: hello.generation, masterGeneration: record?.generation ?? 0,
                            entriesChecked: actual.count, drift: drift, clean: drift.isEmpty)
    }

    /// What the replica should hold at the tree digest it reports: the manifest the master
    /// recorded for it, or the master's last scan when that is the same tree.
    private func expectedManifest(_ name: String, treeDigest: ContentDigest?, generation: UInt64,
                                  state: MasterState) throws -> Manifest {
        guard let treeDigest else { return .empty }  // never committed: it should hold nothing
        for candidate in [state.replicaManifest(name), state.lastScan()?.replicated] {
            if let candidate, candidate.treeDigest == treeDigest { return candidate }
        }
        throw VerifyError(code: .noRecord, replica: name,
                          detail: "the master has no record of the tree it holds (generation \(generation)); run `cloudmin-mirror catch-up \(name)`, which compares its own disk with the master's")
    }

    /// Every path where `actual` differs from `expected`, in manifest order.
    /// - Parameters:
    ///   - expected: what the replica should hold.
    ///   - actual: what it holds (its rehashed manifest).
    public static func compare(expected: Manifest, actual: Manifest) -> [DriftItem] {
        var items: [DriftItem] = []
        var i = 0, j = 0
        let e = expected.entries, a = actual.entries
        while i < e.count || j < a.count {
            if j == a.count || (i < e.count && RelativePath.precedes(e[i].path, a[j].path)) {
                items.append(DriftItem(path: e[i].path, kinds: [.missing], itemized: ">\(letter(e[i].kind))+++++++++ \(e[i].path)"))
                i += 1
            } else if i == e.count || e[i].path != a[j].path {
                items.append(DriftItem(path: a[j].path, kinds: [.extra], itemized: "*deleting   \(a[j].path)"))
                j += 1
            } else {
                if let item = difference(e[i], a[j]) { items.append(item) }
                i += 1
                j += 1
            }
        }
        return items
    }

    /// How one path differs, or nil when it matches in every field the tree digest covers.
    private static func difference(_ want: ManifestEntry, _ have: ManifestEntry) -> DriftItem? {
        if want.kind != have.kind {
            return DriftItem(path: want.path, kinds: [.type], itemized: ">\(letter(want.kind))+++++++++ \(want.path)")
        }
        var kinds: [DriftKind] = []
        let content = want.size != have.size || want.digest != have.digest || want.symlinkTarget != have.symlinkTarget
        if content { kinds.append(.content) }
        let meta = MetadataChanges.between(have, want)
        if meta.contains(.mode) { kinds.append(.mode) }
        if meta.contains(.owner) || meta.contains(.group) { kinds.append(.owner) }
        if meta.contains(.mtime) { kinds.append(.mtime) }
        guard !kinds.isEmpty else { return nil }
        // rsync's YXcstpoguax columns.
        let code = (content ? ">" : ".") + letter(want.kind)
            + (content ? "c" : ".") + (want.size != have.size ? "s" : ".") + (meta.contains(.mtime) ? "t" : ".")
            + (meta.contains(.mode) ? "p" : ".") + (meta.contains(.owner) ? "o" : ".") + (meta.contains(.group) ? "g" : ".")
            + "..."
        return DriftItem(path: want.path, kinds: kinds, itemized: "\(code) \(want.path)")
    }

    private static func letter(_ kind: EntryKind) -> String {
        switch kind {
        case .file: return "f"
        case .directory: return "d"
        case .symlink: return "L"
        }
    }
}

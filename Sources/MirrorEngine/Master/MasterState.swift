import Foundation
import TreeDiff

/// What the master knows of its own generations.
public struct MasterRecord: Sendable, Hashable, Codable {
    /// Made at the first run; a promoted replica keeps its master's.
    public var lineage: String
    /// Increases whenever the mirrored trees change.
    public var generation: UInt64
    /// Tree digest of `generation`.
    public var treeDigest: ContentDigest?
}

/// What the master knows of one replica, shown by `status`.
public struct ReplicaRecord: Sendable, Hashable, Codable {
    public var name: String
    /// The generation the replica last confirmed holding.
    public var generation: UInt64 = 0
    public var treeDigest: ContentDigest?
    /// Seconds since the epoch of the last run that left the replica equal to the master.
    public var lastSuccess: Double?
    /// Seconds since the epoch of the last attempt.
    public var lastAttempt: Double?
    public var lastError: String?
    /// Figures of the last run.
    public var lastBytesSent: Int64 = 0
    public var lastSeconds: Double = 0
    public var lastFilesSent: Int = 0
    public var failures: Int = 0

    public init(name: String) { self.name = name }
}

/// The master's state directory: `<state_dir>/master/` with `master.json`, `scan.manifest`
/// (the last scan, for quick checks), `replicas/<name>.json` and `.manifest` (what each replica
/// holds), and `signatures/<digest>` (librsync signatures of content sent, for deltas) and
/// `signatures/<digest>.blocks` (block maps of large files sent, for block patches).
public final class MasterState {
    public let directory: String

    public init(stateDirectory: String) throws {
        directory = stateDirectory + "/master"
        for sub in ["", "/replicas", "/signatures"] {
            try FileManager.default.createDirectory(atPath: directory + sub, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
    }

    var recordFile: String { directory + "/master.json" }
    var scanFile: String { directory + "/scan.manifest" }
    func replicaFile(_ name: String) -> String { directory + "/replicas/\(name).json" }
    func replicaManifestFile(_ name: String) -> String { directory + "/replicas/\(name).manifest" }
    func signatureFile(_ digest: ContentDigest) -> String { directory + "/signatures/\(digest)" }

    public func record() throws -> MasterRecord? { try readJSON(recordFile) }
    public func save(_ record: MasterRecord) throws { try writeJSON(record, recordFile) }

    public func replica(_ name: String) throws -> ReplicaRecord {
        try readJSON(replicaFile(name)) ?? ReplicaRecord(name: name)
    }
    public func save(_ record: ReplicaRecord) throws { try writeJSON(record, replicaFile(record.name)) }

    /// The manifest the replica held after its last commit, if recorded.
    func replicaManifest(_ name: String) -> Manifest? { try? Manifest.load(from: replicaManifestFile(name)) }
    func saveReplicaManifest(_ manifest: Manifest, _ name: String) throws { try manifest.save(to: replicaManifestFile(name)) }

    /// Forgets a replica.
    public func removeReplica(_ name: String) {
        try? FileManager.default.removeItem(atPath: replicaFile(name))
        try? FileManager.default.removeItem(atPath: replicaManifestFile(name))
    }

    /// The last scan (with quick-check fields), nil when none or unreadable (then the next
    /// scan rehashes: slower, never wrong).
    func lastScan() -> Manifest? { try? Manifest.load(from: scanFile) }
    func saveScan(_ manifest: Manifest) throws { try manifest.save(to: scanFile) }

    func cachedSignature(_ digest: ContentDigest) -> [UInt8]? {
        try? AtomicFile.read(signatureFile(digest), limit: 1 << 30)
    }
    func saveSignature(_ bytes: [UInt8], for digest: ContentDigest) {
        try? AtomicFile.write(bytes, to: signatureFile(digest))
    }

    func blockMapFile(_ digest: ContentDigest) -> String { directory + "/signatures/\(digest).blocks" }

    /// The block map of content sent earlier, if kept and intact.
    func cachedBlockMap(_ digest: ContentDigest) -> BlockMap? {
        guard let bytes = try? AtomicFile.read(blockMapFile(digest), limit: 1 << 30),
              let map = try? BlockMap(decoding: bytes, context: blockMapFile(digest)), map.digest == digest else { return nil }
        return map
    }
    func saveBlockMap(_ map: BlockMap) {
        try? AtomicFile.write(map.encoded(), to: blockMapFile(map.digest))
    }

    /// Drops cached signatures and block maps of content no longer in `keep`.
    func pruneSignatures(keep: Set<ContentDigest>) {
        let dir = directory + "/signatures"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let hex = name.hasSuffix(".blocks") ? String(name.dropLast(".blocks".count)) : name
            if let d = ContentDigest(hex: hex), keep.contains(d) { continue }
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    private func readJSON<T: Decodable>(_ path: String) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(AtomicFile.read(path, limit: 1 << 20)))
        } catch {
            throw ReplicaError(.corruptState, path: path, detail: "\(error); remove it to start that record afresh")
        }
    }

    private func writeJSON<T: Encodable>(_ value: T, _ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(value)), to: path)
    }
}

import TreeDiff
import Foundation

/// What this host is in replication: a master that sends, a replica that accepts one
/// master's key, or neither. Saved as `<state_dir>/role.json`.
public struct RoleRecord: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        /// Not set up: `replica init` or `master add-replica` makes it one or the other.
        case none
        case master
        case replica
    }

    public var role: Role
    /// On a replica: the fingerprint (`SHA256:...`) of the master key it accepts.
    public var masterFingerprint: String?
    /// On a master: the lineage id its generations carry (made at the first add-replica and
    /// kept by a promoted replica). On a replica: the lineage it holds, once it holds one.
    public var lineage: String?
    /// When the role was set (seconds since the epoch).
    public var since: Double
    /// On a replica: where its master answers (`HOST:PORT`, from `--master-host`), so that
    /// `replica promote` can check the old master is gone. Optional: older files lack it.
    public var masterHost: String?
    /// On a master: replication turned off by `master disable` (runs refuse). Optional: older
    /// files lack it, meaning false.
    public var disabled: Bool?

    public init(role: Role, masterFingerprint: String? = nil, lineage: String? = nil, since: Double = Date().timeIntervalSince1970) {
        self.role = role
        self.masterFingerprint = masterFingerprint
        self.lineage = lineage
        self.since = since
    }

    public static let unset = RoleRecord(role: .none, since: 0)

    static func file(in stateDirectory: String) -> String { stateDirectory + "/role.json" }

    /// The role recorded in `stateDirectory`, `.unset` when none.
    /// - Throws: `ReplicaError.corruptState` for an unreadable record.
    public static func load(stateDirectory: String) throws -> RoleRecord {
        let path = file(in: stateDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return .unset }
        do {
            return try JSONDecoder().decode(RoleRecord.self, from: Data(AtomicFile.read(path, limit: 1 << 16)))
        } catch {
            throw ReplicaError(.corruptState, path: path, detail: "\(error); restore it from backup or set the role again")
        }
    }

    /// Saves atomically.
    public func save(stateDirectory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(self)), to: Self.file(in: stateDirectory))
    }
}

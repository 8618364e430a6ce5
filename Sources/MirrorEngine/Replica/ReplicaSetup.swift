#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Switching a host to the replica role and changing the master it accepts
/// (`replica init`, `replica set-master`).
public enum ReplicaSetup {
    /// How long setup waits for a running replica commit (which holds the run lock) to end.
    public static let lockWaitSeconds = 10.0

    /// What a setup step did.
    public struct Outcome: Sendable, Hashable {
        /// The role now recorded.
        public var role: RoleRecord
        /// The master's fingerprint before, if this host was already a replica.
        public var previousMaster: String?
        /// The authorized_keys file written.
        public var authorizedKeys: String
        /// Whether an older replication entry was replaced.
        public var replacedEntry: Bool
    }

    /// Makes this host a replica of the master holding `key`: records the role and installs the
    /// key with its forced command. Under the run lock, so no replica commit runs meanwhile.
    /// - Parameters:
    ///   - context: this host.
    ///   - key: the master's replication key.
    ///   - authorizedKeys: where to install it.
    ///   - executable: absolute path of the cloudmin-mirror binary for the forced command.
    ///   - root: the global `--root` as given; `config`: the global `--config`.
    ///   - force: start over even if this host replicates another master.
    ///   - masterHost: where the master answers (`HOST:PORT`), for `replica promote`'s check.
    ///   - fromMaster: allow a master to become a replica (`master disable --become-replica-of`).
    /// - Throws: `AccessError` `.isMaster` (without `fromMaster`), `.otherMaster` (without `force`),
    ///   `.unsafePath`, `.authorizedKeys`; `ReplicaError.corruptState`; `RunLock.Busy`.
    public static func initialize(context: MirrorContext, key: PublicKey, authorizedKeys: AuthorizedKeys,
                                  executable: String, root: String, config: String?, force: Bool,
                                  masterHost: String? = nil, fromMaster: Bool = false) throws -> Outcome {
        let command = try AuthorizedKeys.forcedCommand(executable: executable, root: root, config: config, fingerprint: key.fingerprint)
        let lock = try context.lock(waitSeconds: lockWaitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let current = try RoleRecord.load(stateDirectory: context.stateDirectory)
        switch current.role {
        case .master where !fromMaster:
            throw AccessError(.isMaster, subject: context.stateDirectory)
        case .replica where current.masterFingerprint != key.fingerprint && !force:
            throw AccessError(.otherMaster, subject: current.masterFingerprint ?? "(unknown)")
        case .master, .replica, .none:
            break
        }
        var role = RoleRecord(role: .replica, masterFingerprint: key.fingerprint)
        role.masterHost = masterHost
        // The same master again keeps what the replica holds; a forced new start does not.
        if current.role == .replica && current.masterFingerprint == key.fingerprint { role.lineage = current.lineage }
        return try apply(role, previous: current, entry: AuthorizedKeys.entry(for: key, command: command),
                         context: context, authorizedKeys: authorizedKeys)
    }

    /// Accepts a new master on a replica (failover): replaces the old master's entry and
    /// fingerprint, keeping the lineage and generations the replica holds.
    /// - Parameters: as `initialize`; `masterHost` replaces the recorded address (nil forgets it).
    /// - Throws: `AccessError.notReplica` on a host that is not a replica; as `initialize`.
    public static func setMaster(context: MirrorContext, key: PublicKey, authorizedKeys: AuthorizedKeys,
                                 executable: String, root: String, config: String?,
                                 masterHost: String? = nil) throws -> Outcome {
        let command = try AuthorizedKeys.forcedCommand(executable: executable, root: root, config: config, fingerprint: key.fingerprint)
        let lock = try context.lock(waitSeconds: lockWaitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let current = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard current.role == .replica else { throw AccessError(.notReplica, subject: current.role.rawValue) }
        var role = current
        role.masterFingerprint = key.fingerprint
        role.masterHost = masterHost
        role.since = Date().timeIntervalSince1970
        return try apply(role, previous: current, entry: AuthorizedKeys.entry(for: key, command: command),
                         context: context, authorizedKeys: authorizedKeys)
    }

    /// Writes the key entry first, then the role: a failure in between leaves a key whose
    /// fingerprint the role does not name, which `replica serve` refuses.
    private static func apply(_ role: RoleRecord, previous: RoleRecord, entry: String, context: MirrorContext,
                              authorizedKeys: AuthorizedKeys) throws -> Outcome {
        try context.ensureStateDirectory()
        let replaced = try authorizedKeys.install(entry: entry)
        try role.save(stateDirectory: context.stateDirectory)
        return Outcome(role: role, previousMaster: previous.role == .replica ? previous.masterFingerprint : nil,
                       authorizedKeys: authorizedKeys.path, replacedEntry: replaced)
    }

    /// Refuses, naming the master, when this host is a replica: for every command that would
    /// change the mirrored trees (only the replica protocol writes them on a replica).
    /// - Parameters:
    ///   - context: this host.
    ///   - action: what was asked, for the message (`"mirror run"`).
    /// - Throws: `AccessError.replicaReadOnly`; `ReplicaError.corruptState` for a damaged role.
    public static func refuseOnReplica(context: MirrorContext, action: String) throws {
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role != .replica else {
            throw AccessError(.replicaReadOnly, subject: role.masterFingerprint ?? "(unknown)", detail: action)
        }
    }

    /// This binary's absolute path, from `/proc/self/exe`.
    /// - Throws: `AccessError.executable` when it cannot be read.
    public static func currentExecutable() throws(AccessError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw AccessError(.executable, subject: "/proc/self/exe", detail: "readlink failed, errno \(errno)") }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // A binary replaced while running reads as "PATH (deleted)".
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(10)) : path
    }
}

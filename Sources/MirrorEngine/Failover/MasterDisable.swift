import Foundation

/// `master disable`: turns replication off on an old master that is still reachable, or makes
/// it a replica of the new master. Its trees are left as they are; so are its replicas.
public enum MasterDisable {
    /// How long disabling waits for a running mirror run (which holds the run lock) to end.
    public static let lockWaitSeconds = 60.0

    /// Marks this master disabled: `sync`, scheduled runs and `add-replica`'s copy refuse from
    /// now on. Waits for a run in progress to end first.
    /// - Parameters:
    ///   - context: this host.
    ///   - undo: turn replication back on instead.
    /// - Returns: the role now recorded.
    /// - Throws: `FailoverError.notMaster`; `RunLock.Busy` when a run lasts longer than
    ///   `lockWaitSeconds`; `ReplicaError.corruptState`.
    public static func disable(context: MirrorContext, undo: Bool = false) throws -> RoleRecord {
        let lock = try context.lock(waitSeconds: lockWaitSeconds)
        defer { withExtendedLifetime(lock) {} }
        var role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .master else { throw FailoverError(.notMaster, subject: role.role.rawValue) }
        role.disabled = undo ? nil : true
        role.since = Date().timeIntervalSince1970
        try role.save(stateDirectory: context.stateDirectory)
        return role
    }

    /// Makes this master (disabled or not) a replica of the new master holding `key`, as
    /// `replica init --force` would. Its trees stay as they are: the new master's next run
    /// fetches their manifest and sends only the difference. Replica state left from an earlier
    /// time as a replica is dropped first, since the trees have changed since then.
    /// - Parameters: as `ReplicaSetup.initialize`.
    /// - Throws: `FailoverError.notMaster`; as `ReplicaSetup.initialize`.
    public static func becomeReplica(context: MirrorContext, key: PublicKey, authorizedKeys: AuthorizedKeys,
                                     executable: String, root: String, config: String?,
                                     masterHost: String?) throws -> ReplicaSetup.Outcome {
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .master else { throw FailoverError(.notMaster, subject: role.role.rawValue) }
        if let masterHost { _ = try MasterAddress(parsing: masterHost) }
        do {
            let lock = try context.lock(waitSeconds: lockWaitSeconds)
            defer { withExtendedLifetime(lock) {} }
            try? FileManager.default.removeItem(atPath: context.stateDirectory + "/replica")
        }
        return try ReplicaSetup.initialize(context: context, key: key, authorizedKeys: authorizedKeys, executable: executable,
                                           root: root, config: config, force: true, masterHost: masterHost, fromMaster: true)
    }

    /// Refuses a mirror run on a disabled master.
    /// - Throws: `FailoverError.disabled`.
    public static func refuseIfDisabled(_ role: RoleRecord, stateDirectory: String) throws(FailoverError) {
        if role.role == .master && role.disabled == true {
            throw FailoverError(.disabled, subject: RoleRecord.file(in: stateDirectory))
        }
    }
}

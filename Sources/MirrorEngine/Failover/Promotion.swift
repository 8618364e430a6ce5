import Foundation
import TreeDiff

/// `replica promote`: makes a replica whose master is gone the master, keeping the trees of its
/// last complete generation and continuing its lineage, so the other replicas accept it.
public enum Promotion {
    /// How long `promote` waits for the old master's SSH port to answer.
    public static let defaultProbeTimeout = 3.0

    /// What a promotion did.
    public struct Outcome: Sendable {
        /// The lineage the new master continues.
        public var lineage: String
        /// The generation it starts from (its trees are exactly this generation).
        public var generation: UInt64
        public var treeDigest: ContentDigest?
        /// What recovering an interrupted commit did first.
        public var recovery: ReplicaStore.Recovery
        /// The master this host replicated until now.
        public var previousMaster: String?
        /// The recorded old master's address; nil when none was recorded (nothing was checked).
        public var oldMasterAddress: String?
        /// Whether the old master answered (only possible with `force`).
        public var oldMasterAnswered: Bool
        /// The new master's replication key, for `replica set-master` on the other replicas.
        public var key: PublicKey
        /// Whether the old master's replication entry was removed from authorized_keys.
        public var removedOldMasterAccess: Bool
    }

    /// Promotes this replica to master.
    ///
    /// Under the run lock: finishes or rolls back an interrupted commit, checks that the recorded
    /// old master no longer answers (TCP connect to its SSH port), records a master state that
    /// continues the held lineage and generation (the next run that finds changed trees commits
    /// generation + 1, which every replica of the lineage accepts), makes the replication key
    /// when missing, switches the role to master, removes the old master's key entry, and drops
    /// the replica's staging area.
    /// - Parameters:
    ///   - context: this host.
    ///   - force: promote even when the old master answers or no generation was ever completed.
    ///   - probeTimeout: seconds to wait for the old master's port.
    ///   - authorizedKeys: the file holding the old master's entry; nil leaves it untouched.
    /// - Throws: `FailoverError` `.notReplica`, `.oldMasterAnswers`, `.noGeneration` (the last two
    ///   without `force`); `ReplicaError.corruptState`; `RunLock.Busy` while a commit runs longer
    ///   than `ReplicaSetup.lockWaitSeconds`; `AccessError.authorizedKeys`.
    public static func promote(context: MirrorContext, force: Bool, probeTimeout: Double = defaultProbeTimeout,
                               authorizedKeys: AuthorizedKeys?) throws -> Outcome {
        let lock = try context.lock(waitSeconds: ReplicaSetup.lockWaitSeconds)
        defer { withExtendedLifetime(lock) {} }
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .replica else { throw FailoverError(.notReplica, subject: role.role.rawValue) }
        let store = try ReplicaStore(stateDirectory: context.stateDirectory, root: context.paths.rootDirectory, trees: context.trees)
        let recovery = try store.recover()
        let held = try store.generation()
        guard held.generation > 0 || force else { throw FailoverError(.noGeneration, subject: store.directory) }

        var answered = false
        if let recorded = role.masterHost {
            let address = try MasterAddress(parsing: recorded)
            if address.answers(timeout: probeTimeout) != nil {
                guard force else {
                    throw FailoverError(.oldMasterAnswers, subject: address.host,
                                        detail: "port \(address.port) accepts connections")
                }
                answered = true
            }
        }

        let key = try MasterSetup.ensureKey(context)
        let lineage = held.generation > 0 ? held.lineage : UUID().uuidString
        let state = try MasterState(stateDirectory: context.stateDirectory)
        try state.save(MasterRecord(lineage: lineage, generation: held.generation, treeDigest: held.treeDigest))
        // The replica's own quick-check fields let the first scan skip unchanged files (big
        // images are not rehashed); without them the first scan reads everything.
        if let live = try? store.recordedManifest() {
            try state.saveScan(live)
        } else {
            try? FileManager.default.removeItem(atPath: state.scanFile)
        }
        try RoleRecord(role: .master, lineage: lineage).save(stateDirectory: context.stateDirectory)

        var removed = false
        if let authorizedKeys { removed = try authorizedKeys.removeReplicationEntries() }
        // Staged objects of runs that will never finish: free their space.
        try? FileManager.default.removeItem(atPath: store.directory)
        return Outcome(lineage: lineage, generation: held.generation, treeDigest: held.treeDigest, recovery: recovery,
                       previousMaster: role.masterFingerprint, oldMasterAddress: role.masterHost,
                       oldMasterAnswered: answered, key: key, removedOldMasterAccess: removed)
    }
}

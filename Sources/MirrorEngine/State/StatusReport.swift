import Foundation
import TreeDiff

/// What `status` shows: this host's role and, on a master, each replica's state.
public struct StatusReport: Sendable, Codable {
    public struct Replica: Sendable, Codable {
        public var name: String
        public var host: String
        public var port: Int
        public var generation: UInt64
        public var behind: UInt64
        public var lastSuccess: Double?
        /// Seconds since the replica was last equal to the master (nil: never).
        public var lagSeconds: Double?
        public var lastAttempt: Double?
        public var lastBytesSent: Int64
        public var lastSeconds: Double
        public var lastError: String?
        public var consecutiveFailures: Int
    }
    public var role: String
    /// A master whose replication was turned off with `master disable`.
    public var disabled: Bool = false
    public var masterFingerprint: String?
    public var lineage: String?
    public var generation: UInt64
    public var treeDigest: String?
    public var trees: [String]
    public var replicas: [Replica]

    public static func collect(_ context: MirrorContext) throws -> StatusReport {
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        var report = StatusReport(role: role.role.rawValue, disabled: role.disabled ?? false, masterFingerprint: role.masterFingerprint, lineage: role.lineage,
                                  generation: 0, treeDigest: nil, trees: context.config.trees, replicas: [])
        let now = Date().timeIntervalSince1970
        switch role.role {
        case .replica:
            let store = try ReplicaStore(stateDirectory: context.stateDirectory, root: context.paths.rootDirectory, trees: context.trees)
            let g = try store.generation()
            report.generation = g.generation
            report.treeDigest = g.treeDigest?.description
            report.lineage = g.lineage
        case .master, .none:
            let state = try MasterState(stateDirectory: context.stateDirectory)
            let record = try state.record()
            report.generation = record?.generation ?? 0
            report.treeDigest = record?.treeDigest?.description
            report.lineage = record?.lineage ?? role.lineage
            for r in context.config.replicas {
                let rec = try state.replica(r.name)
                report.replicas.append(Replica(
                    name: r.name, host: r.host, port: r.port, generation: rec.generation,
                    behind: rec.treeDigest == record?.treeDigest ? 0 : (record?.generation ?? 0) &- min(rec.generation, record?.generation ?? 0),
                    lastSuccess: rec.lastSuccess, lagSeconds: rec.treeDigest == record?.treeDigest ? 0 : rec.lastSuccess.map { now - $0 },
                    lastAttempt: rec.lastAttempt, lastBytesSent: rec.lastBytesSent, lastSeconds: rec.lastSeconds,
                    lastError: rec.lastError, consecutiveFailures: rec.failures))
            }
        }
        return report
    }

    /// Human-readable form.
    public var text: String {
        var lines = ["role: \(role)" + (disabled ? " (replication turned off: `master disable --undo` turns it on)" : "")
                        + (masterFingerprint.map { " (accepts master \($0))" } ?? ""),
                     "generation: \(generation)" + (treeDigest.map { " tree \($0.prefix(16))" } ?? ""),
                     "trees: \(trees.joined(separator: ", "))"]
        for r in replicas {
            let when = r.lastSuccess.map { Date(timeIntervalSince1970: $0).description } ?? "never"
            lines.append("replica \(r.name) (\(r.host):\(r.port)): generation \(r.generation), \(r.behind) behind, last success \(when), last run \(r.lastBytesSent) bytes in \(String(format: "%.2f", r.lastSeconds))s" + (r.lastError.map { ", last error: \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation

/// One tool's figures in one phase.
struct ToolFigures: Codable, Sendable {
    var tool: String
    /// rx + tx bytes of the host-side veth during the run (both directions, all replicas).
    var wireBytes: UInt64
    var wallSeconds: Double
    /// From the start of the run until the last replica session (sshd child) ended: more than
    /// `wallSeconds` when the replica side goes on after the master's process exits.
    var untilReplicaIdleSeconds: Double
    /// Master side, user + system, the tool's process and the children it reaped.
    var cpuSeconds: Double
    /// Master side: largest single process (wait4 ru_maxrss), KiB.
    var masterMaxRSSKiB: Int
    /// Replica side: largest replica command process (GNU time), KiB; nil when not recorded.
    var replicaMaxRSSKiB: Int?
    var replicaCPUSeconds: Double?
    /// How many replica-side commands `time` recorded.
    var replicaInvocations: Int
    /// Every replica of the phase scanned equal to the master minus the exclusions.
    var replicasEqualMaster: Bool
}

/// One phase: the same master state, each tool in turn.
struct PhaseFigures: Codable, Sendable {
    var phase: String
    var kind: Kind
    var replicas: Int
    /// The generator's summary line for a churn cycle.
    var change: String?
    /// The data that changed, measured against the state the replicas held (see `ChangedData`).
    var changed: ChangedData?
    var tools: [ToolFigures]

    enum Kind: String, Codable, Sendable { case initial, noChange = "no-change", churn, fanout = "fan-out" }

    func figures(_ tool: String) -> ToolFigures? { tools.first { $0.tool == tool } }
}

/// The warm-session no-change runs: `MirrorRun` in-process with a `ConnectionPool`.
struct WarmFigures: Codable, Sendable {
    var files: Int
    /// The median of the timed runs.
    var secondRunSeconds: Double
    var secondRunWireBytes: UInt64
    /// Every timed run.
    var runSeconds: [Double] = []
    var targetSeconds = 0.05
}

/// Everything one `compare` run measured, as written by `--json`.
struct CompareResults: Codable, Sendable {
    var command: [String]
    var workload: String
    var masterEntries: Int
    var rate: String?
    var date: String
    var notes: [String]
    var phases: [PhaseFigures] = []
    var warm: WarmFigures?
}

import Foundation
import MirrorEngine
import TreeDiff

/// Two `cloudmin-mirror sync` processes and a `cloudmin-mirror daemon` started at once after
/// one change on the master. Every trial: each sync either runs or refuses with the busy exit
/// status (75) and a message; the daemon runs or retries; the replica's generation advances by
/// exactly one, nothing stays staged, and the replica equals the master.
final class ConcurrentRunTrials: FaultTrials {
    private var pair: FaultPair?

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        pair = try FaultPair()
        return nil
    }

    func tearDown() { pair = nil }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair else { return TrialResult(skipped: "no pair") }
        let stagger = UInt32(rng.next() % 200_000)
        return TrialResult.checking { result in
            let before = try pair.recoverReplica().record.generation
            try pair.churn(seed: 5000 + i)
            let daemon = try pair.start(["daemon", "--settle", "0", "--tick", "0.2"])
            let a = try pair.start(["sync"])
            usleep(stagger)
            let b = try pair.start(["sync", "--wait", i % 2 == 0 ? "0" : "30"])
            var ran = 0
            for (label, run) in [("first sync", a.finish()), ("second sync", b.finish())] {
                if run.status == 0 {
                    ran += 1
                } else if run.status == 75 {
                    if run.stderr.isEmpty { result.problems.append("\(label) refused without a message") }
                    result.figures["syncsRefusedBusy"] = (result.figures["syncsRefusedBusy"] ?? 0) + 1
                } else {
                    result.problems.append("\(label) exited \(run.status): \(run.stderr.prefix(300))")
                }
            }
            result.figures["syncsRan"] = Int64(ran)
            // The daemon runs at start-up, or retries at its next tick while a sync holds the lock.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && !Self.daemonRan(daemon.stderrSoFar()) { usleep(100_000) }
            let daemonRan = Self.daemonRan(daemon.stderrSoFar())
            kill(daemon.process.pid, SIGTERM)
            let stopped = daemon.finish()
            if !daemonRan { result.problems.append("the daemon never ran: \(stopped.stderr.suffix(300))") }
            if stopped.status != 0 { result.problems.append("the daemon exited \(stopped.status) on SIGTERM") }
            let after = try pair.recoverReplica().record.generation
            if after != before + 1 {
                result.lostOrMixed = after > before + 1
                result.problems.append("replica generation went \(before) -> \(after), expected one step")
            }
            let staged = try pair.stagedBytes()
            if staged.onDisk > 0 { result.problems.append("\(staged.onDisk) bytes left staged") }
            result.problems += try pair.convergence()
            result.converged = result.problems.isEmpty
        }
    }

    /// Whether the daemon's log shows a finished run for the replica.
    static func daemonRan(_ log: String) -> Bool {
        log.contains("replica up to date") || log.contains("replica updated")
    }
}

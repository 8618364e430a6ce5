import Foundation
import MirrorEngine
import TreeDiff

/// Kill -9 of the replica's commit at points spread over the journal's whole step range
/// (the `CLOUDMIN_MIRROR_CRASH_AT_FILE` hook, which counts the commit's steps), then recovery
/// and the next run. Every trial: the live trees are exactly generation N or N+1, and the next
/// run converges.
final class CommitCrashTrials: FaultTrials {
    private var pair: FaultPair?

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        pair = try FaultPair()
        return nil
    }

    func tearDown() { pair = nil }

    /// Crash points a commit from `live` to `manifest` passes: the prepared list, one per
    /// staged temp, the journal, one per journal step, and the finalized record.
    static func crashPoints(from live: Manifest, to manifest: Manifest) -> Int {
        let plan = ChangePlan.make(from: live, to: manifest)
        var placements = 0
        for item in plan.items {
            switch item.action {
            case .newFile, .changedFile, .symlink: placements += 1
            default: break
            }
        }
        return 3 + placements + plan.items.count
    }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair else { return TrialResult(skipped: "no pair") }
        let u = Double(rng.next() % 1000) / 1000
        return TrialResult.checking { result in
            let old = try pair.replicaManifest()
            try pair.churn(seed: i + 1)
            let new = try pair.masterManifest()
            let liveWithMetadata = try Scanner(root: pair.replicaRoot, trees: try pair.replica.trees).scan().manifest
            let total = Self.crashPoints(from: liveWithMetadata, to: new)
            // Trials spread evenly over the range, each at a random point of its slice.
            let step = min(total, 1 + Int(Double(total) * (Double(i) + u) / Double(max(trials, 1))))
            result.figures["crashPointsTotal"] = Int64(total)
            try "\(step)\n".write(toFile: pair.crashFile, atomically: true, encoding: .utf8)
            let crashed = try pair.sync()
            try? FileManager.default.removeItem(atPath: pair.crashFile)
            if crashed.ok {
                result.problems.append("the commit did not stop at crash point \(step) of \(total)")
            }
            let (held, problems) = try pair.wholeness(old: old, new: new)
            result.problems += problems.map { "after a crash at point \(step)/\(total): \($0)" }
            switch held {
            case .old: result.figures["rolledBackOrUntouched"] = 1
            case .new: result.figures["rolledForward"] = 1
            case .neither: result.lostOrMixed = true
            }
            let next = try pair.sync()
            if let error = next.error { result.problems.append("next run failed: \(error)") }
            result.problems += try pair.convergence()
            result.converged = result.problems.isEmpty
        }
    }
}

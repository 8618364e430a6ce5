import Foundation
import MirrorEngine
import TreeDiff

/// The TCP link between master and sshd cut (both sides closed) after a random number of
/// client-to-server bytes, while a new 4 MiB file and an edited record are being sent. Every
/// trial: the live trees are untouched (or, when the cut fell after the commit request
/// arrived, the whole new generation), the run reports the failure, and the next run sends
/// no more than what had not arrived yet, and converges.
final class LinkCutTrials: FaultTrials {
    private var pair: FaultPair?
    /// A clean run of the same change: client-to-server bytes on the link, bytes on the channel.
    private var linkBytes = 0
    private var channelBytes: Int64 = 0
    private var blob: String?
    static let blobSize = 4 << 20

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        let pair = try FaultPair(viaProxy: true)
        self.pair = pair
        // Calibration: the same change without a cut.
        try change(pair, trial: -1, rng: &rng)
        let clean = try pair.sync()
        guard clean.ok else { throw FaultLabError(.setupFailed, context: "calibration run", detail: clean.error ?? "") }
        linkBytes = pair.proxy!.lastConnection.forwarded
        channelBytes = clean.bytesSent
        progress("link-cut: a clean run of the change sends \(channelBytes) bytes on the channel, \(linkBytes) on the link")
        return nil
    }

    func tearDown() { pair = nil }

    /// A new random file (new path, so it goes whole and can resume), the previous one gone,
    /// and one record edited.
    private func change(_ pair: FaultPair, trial: Int, rng: inout SplitMix64) throws {
        let name = "faultlab-blob-\(trial + 1).bin"
        try pair.writeBlob(name, bytes: Self.blobSize, rng: &rng, replacing: blob)
        blob = name
        let note = pair.blobDirectory + "/faultlab-note"
        try "trial \(trial)\n".write(toFile: note, atomically: true, encoding: .utf8)
    }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair, let proxy = pair.proxy else { return TrialResult(skipped: "no pair") }
        let cutAt = 1 + Int(rng.next() % UInt64(max(linkBytes - 1, 1)))
        return TrialResult.checking { result in
            let old = try pair.replicaManifest()
            try change(pair, trial: i, rng: &rng)
            let new = try pair.masterManifest()
            proxy.armCut(after: cutAt)
            let cut = try pair.sync()
            proxy.armCut(after: nil)
            let link = proxy.lastConnection
            if !link.cut {
                // This run needed fewer bytes than the calibration run: nothing was cut.
                result.figures["runEndedBeforeTheCut"] = 1
                if let error = cut.error { result.problems.append("an uncut run failed: \(error)") }
            } else if cut.ok {
                result.problems.append("the run did not report the cut at byte \(cutAt) of \(linkBytes)")
            }
            let (held, problems) = try pair.wholeness(old: old, new: new)
            result.problems += problems.map { "after a cut at byte \(cutAt): \($0)" }
            switch held {
            case .old: break
            case .new: result.figures["committedBeforeTheCut"] = 1
            case .neither: result.lostOrMixed = true
            }
            let staged = try pair.stagedBytes()
            let next = try pair.sync()
            if let error = next.error { result.problems.append("next run failed: \(error)") }
            result.problems += try pair.convergence()
            result.figures["resumedBytes"] = next.resumedBytes
            result.figures["bytesArrivedBeforeCut"] = staged.partialReceived + staged.completeSize
            if held == .old {
                // What had arrived (complete objects, the received part of a partial one) is not sent again.
                let arrived = staged.partialReceived + staged.completeSize
                let slack = 64 << 10 + channelBytes / 50
                if next.bytesSent > channelBytes - arrived + slack {
                    result.problems.append("next run sent \(next.bytesSent) bytes although \(arrived) of \(channelBytes) had arrived")
                }
                if staged.partialReceived > 0 && next.resumedBytes != staged.partialReceived {
                    result.problems.append("next run resumed \(next.resumedBytes) bytes, \(staged.partialReceived) had been recorded")
                }
            }
            result.converged = result.problems.isEmpty
        }
    }
}

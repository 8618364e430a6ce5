import Foundation
import LoopbackSSHD
import MirrorEngine
import TreeDiff

/// The replica's trees edited by hand, in turn: a file's content changed, a file deleted, a
/// directory replaced by a symlink to a folder outside the trees; then, in turn (three trials
/// each), `verify` and its `--repair` run (a catch-up with every file rehashed), or a change
/// on the master and the next plain run. Every trial: `verify` names the edited path, the
/// master's state is restored without going through the symlink (the folder outside is
/// untouched), and `verify` then finds the replica clean.
final class HandEditTrials: FaultTrials {
    private var pair: FaultPair?

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        pair = try FaultPair()
        return nil
    }

    func tearDown() { pair = nil }

    enum Edit: Int, CaseIterable { case changeFile, deleteFile, directoryToSymlink }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair else { return TrialResult(skipped: "no pair") }
        let edit = Edit(rawValue: i % 3)!
        let byNextRun = i % 2 == 1
        let pick = rng.next()
        return TrialResult.checking { result in
            let live = try pair.replicaManifest()
            let trees = Set(try pair.replica.trees)
            let outside = try ScratchDirectory(prefix: "cm-faults-outside")
            let sentinel = outside.file("sentinel")
            try "outside the trees\n".write(toFile: sentinel, atomically: true, encoding: .utf8)
            let path: String
            switch edit {
            case .changeFile, .deleteFile:
                let files = live.entries.filter { $0.kind == .file && $0.size > 0 }
                path = files[Int(pick % UInt64(files.count))].path
                let host = pair.replicaRoot + "/" + path
                if edit == .changeFile {
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: host))
                    try handle.seek(toOffset: 0)
                    try handle.write(contentsOf: Data("edited by hand\n".utf8))
                    try handle.close()
                } else {
                    try FileManager.default.removeItem(atPath: host)
                }
            case .directoryToSymlink:
                let dirs = live.entries.filter { $0.kind == .directory && !trees.contains($0.path) }
                path = dirs[Int(pick % UInt64(dirs.count))].path
                let host = pair.replicaRoot + "/" + path
                try FileManager.default.removeItem(atPath: host)
                try FileManager.default.createSymbolicLink(atPath: host, withDestinationPath: outside.path)
            }
            let outsideBefore = try Self.listing(outside.path)

            let verifier = ReplicaVerifier(context: try pair.master)
            if byNextRun {
                // The daemon's path: the master changes, and the next plain run must restore
                // the edited path too.
                try pair.churn(seed: 9000 + i)
                let next = try pair.sync()
                if let error = next.error { result.problems.append("next run after \(edit) of \(path) failed: \(error)") }
                if next.fetchedManifest { result.figures["nextRunFetchedManifest"] = 1 }
            } else {
                let report = try verifier.verify(FaultPair.replicaName, waitSeconds: 60)
                if report.clean { result.problems.append("verify found no drift after \(edit) of \(path)") }
                if !report.drift.contains(where: { $0.path == path }) {
                    result.problems.append("verify did not name \(path) (\(edit)): \(report.drift.map(\.path).prefix(5))")
                }
                var options = RunOptions()
                options.forceManifest = true
                options.fullRehash = true
                let repair = try pair.sync(options)
                if let error = repair.error { result.problems.append("repair run failed: \(error)") }
            }
            if try Self.listing(outside.path) != outsideBefore {
                result.lostOrMixed = true
                result.problems.append("the folder outside the trees changed (\(edit) of \(path))")
            }
            // Not converging is a failed check; only a write through the symlink is a loss.
            result.problems += try pair.convergence()
            if !(try verifier.verify(FaultPair.replicaName, waitSeconds: 60).clean) {
                result.problems.append("verify still finds drift after the repair")
            }
            result.converged = result.problems.isEmpty
        }
    }

    /// Names, sizes and contents of a folder's files (not following symlinks).
    static func listing(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { name in
            let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) ?? Data()
            return "\(name):\(data.count):\(data.hashValue)"
        }
    }
}

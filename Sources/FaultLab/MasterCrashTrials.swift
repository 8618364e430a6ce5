import Foundation
import MirrorEngine
import TreeDiff

/// The master's `cloudmin-mirror sync` process killed (SIGKILL) at a random moment of a run
/// that churns the trees and sends a new 2 MiB file. Every trial: the master's trees are as
/// they were, its configuration, role, records, manifests and cached signatures all load, the
/// replica holds generation N or N+1, and the next run converges.
final class MasterCrashTrials: FaultTrials {
    private var pair: FaultPair?
    private var runSeconds = 1.0
    private var blob: String?

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        let pair = try FaultPair()
        self.pair = pair
        try change(pair, trial: -1, rng: &rng)
        let start = Date()
        let clean = try pair.tool(["sync"])
        runSeconds = max(Date().timeIntervalSince(start), 0.2)
        guard clean.status == 0 else { throw FaultLabError(.setupFailed, context: "calibration sync", detail: clean.stderr) }
        progress("master-crash: a clean `sync` of the change takes \(String(format: "%.2f", runSeconds)) s")
        return nil
    }

    func tearDown() { pair = nil }

    private func change(_ pair: FaultPair, trial: Int, rng: inout SplitMix64) throws {
        try pair.churn(seed: 1000 + trial)
        let name = "faultlab-master-\(trial + 1).bin"
        try pair.writeBlob(name, bytes: 2 << 20, rng: &rng, replacing: blob)
        blob = name
    }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair else { return TrialResult(skipped: "no pair") }
        let delay = runSeconds * Double(rng.next() % 1000) / 1000 * 1.1
        return TrialResult.checking { result in
            let old = try pair.replicaManifest()
            try change(pair, trial: i, rng: &rng)
            let new = try pair.masterManifest()
            let sync = try pair.start(["sync"])
            usleep(UInt32(delay * 1_000_000))
            kill(sync.process.pid, SIGKILL)
            let ended = sync.finish()
            if ended.status != 128 + SIGKILL { result.figures["finishedBeforeTheKill"] = 1 }
            if try pair.masterManifest().treeDigest != new.treeDigest {
                result.lostOrMixed = true
                result.problems.append("the master's trees changed under the killed run")
            }
            let damaged = Self.masterStateProblems(pair)
            if !damaged.isEmpty {
                result.lostOrMixed = true
                result.problems += damaged
            }
            let (held, problems) = try pair.wholeness(old: old, new: new)
            result.problems += problems.map { "after a kill at \(String(format: "%.3f", delay)) s: \($0)" }
            if held == .neither { result.lostOrMixed = true }
            if held == .new { result.figures["replicaCommitted"] = 1 }
            let next = try pair.sync()
            if let error = next.error { result.problems.append("next run failed: \(error)") }
            result.problems += try pair.convergence()
            result.converged = result.problems.isEmpty
        }
    }

    /// Loads every piece of the master's own state; returns what does not load.
    static func masterStateProblems(_ pair: FaultPair) -> [String] {
        var problems: [String] = []
        func check(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { problems.append("master \(what) unreadable: \(error)") }
        }
        var context: MirrorContext?
        check("configuration") { context = try pair.master }
        guard let context else { return problems }
        check("role") { _ = try RoleRecord.load(stateDirectory: context.stateDirectory) }
        check("key") { _ = try MirrorRun(context: context).masterFingerprint() }
        let dir = context.stateDirectory + "/master"
        check("record") {
            guard let record = try MasterState(stateDirectory: context.stateDirectory).record() else {
                throw FaultLabError(.setupFailed, context: dir + "/master.json", detail: "missing")
            }
            _ = record
        }
        check("replica record") { _ = try MasterState(stateDirectory: context.stateDirectory).replica(FaultPair.replicaName) }
        for file in [dir + "/scan.manifest", dir + "/replicas/\(FaultPair.replicaName).manifest"]
        where FileManager.default.fileExists(atPath: file) {
            check(file) { _ = try Manifest.load(from: file) }
        }
        // Temps of a killed write carry other names; the next run prunes them.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/signatures")) ?? []
        where ContentDigest(hex: name) != nil {
            check("signature \(name)") {
                let bytes = try AtomicFile.read(dir + "/signatures/" + name, limit: 1 << 30)
                _ = try bytes.withUnsafeBytes { try Signature.load($0) }
            }
        }
        return problems
    }
}

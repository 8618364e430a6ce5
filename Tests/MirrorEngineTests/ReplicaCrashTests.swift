import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// A commit stopped at each of its crash points, as a crash would stop it, then recovered by a
/// fresh store: the replica holds exactly one of the two generations, and says which.
@Suite struct ReplicaCrashTests {
    /// A replica at generation 1 of `s`, with generation 2's objects staged.
    static func replicaAtFirst(_ s: TwoGenerations) throws -> ReplicaHarness {
        let r = try s.replica()
        try r.commit(s.m1, generation: 1)
        let r2 = ReplicaHarness(master: s.second, root: r.root, state: r.state, trees: r.trees)
        try ReplicaHarness.stageObjects(for: s.m2, from: s.second, into: try r2.store())
        return r2
    }

    /// A copy (`cp -a`) of a replica and its state in `dir`.
    static func clone(_ r: ReplicaHarness, into dir: ReplicaTempDir) throws -> ReplicaHarness {
        guard try TreeBuild.copied((r.root as NSString).deletingLastPathComponent, dir.path) else {
            throw ReplicaError(.io, path: dir.path, detail: "cp -a failed")
        }
        return ReplicaHarness(master: r.master, root: dir.path + "/root", state: dir.path + "/state", trees: r.trees)
    }

    /// How many crash points a full commit of generation 2 passes.
    static func crashPoints(_ s: TwoGenerations, _ template: ReplicaHarness) throws -> Int {
        let dir = try ReplicaTempDir("count")
        let r = try clone(template, into: dir)
        let store = try r.store()
        _ = try store.commit(s.m2, generation: 2, lineage: "L1")
        try r.expectReplica(equals: s.m2)
        return store.crashPoint.stepsPassed
    }

    /// Crashes the commit of generation 2 at `step` on a copy of `template`.
    static func crashed(_ s: TwoGenerations, _ template: ReplicaHarness, at step: Int, in dir: ReplicaTempDir) throws -> ReplicaHarness {
        let r = try clone(template, into: dir)
        let store = try r.store(crashAt: step)
        do {
            _ = try store.commit(s.m2, generation: 2, lineage: "L1")
            throw ReplicaError(.io, path: "step \(step)", detail: "the commit did not stop at its crash point")
        } catch is CrashPoint.Simulated {}
        return r
    }

    /// What is wrong with the replica unless it is exactly generation 1 or 2 with a record
    /// that says which, and no temp; and the generation held.
    static func wholeness(_ r: ReplicaHarness, _ s: TwoGenerations) throws -> (held: UInt64?, problems: [String]) {
        let live = try r.scanReplica()
        let record = try r.store().generation()
        var problems: [String] = []
        if !r.temps().isEmpty { problems.append("temps left \(r.temps())") }
        let held: UInt64?
        if live.treeDigest == s.m1.treeDigest {
            held = 1
        } else if live.treeDigest == s.m2.treeDigest {
            held = 2
        } else {
            held = nil
            problems.append("neither generation; vs 1: \(ReplicaHarness.difference(live, s.m1)); vs 2: \(ReplicaHarness.difference(live, s.m2))")
        }
        if let held, record.generation != held || record.treeDigest != (held == 1 ? s.m1 : s.m2).treeDigest {
            problems.append("holds \(held) but records \(record.generation)")
        }
        return (held, problems)
    }

    /// One crash at `step`, recovery, check, then the next commit converges.
    static func crashAndRecover(_ s: TwoGenerations, _ template: ReplicaHarness, step: Int) -> (held: UInt64?, problems: [String]) {
        do {
            let dir = try ReplicaTempDir("crash")
            let r = try crashed(s, template, at: step, in: dir)
            let recovery = try r.store().recover()
            var (held, problems) = try wholeness(r, s)
            if recovery == .none { problems.append("nothing to recover") }
            try r.commit(s.m2, generation: 2)
            let again = try wholeness(r, s)
            if again.held != 2 { problems.append("second commit did not converge: \(again.problems)") }
            return (held, problems)
        } catch {
            return (nil, ["\(error)"])
        }
    }

    func crashEverywhere(_ s: TwoGenerations) throws {
        let template = try Self.replicaAtFirst(s)
        let total = try Self.crashPoints(s, template)
        #expect(total > 3)
        let results = Results(count: total)
        runParallel(total) { i in results.set(i, Self.crashAndRecover(s, template, step: i + 1)) }
        let all = results.values
        for (i, result) in all.enumerated() {
            #expect(result.problems.isEmpty, "step \(i + 1): \(result.problems)")
        }
        let held = all.map(\.held)
        // Early crashes roll back, late ones roll forward, and never back again.
        #expect(held.first == 1 && held.last == 2)
        #expect(held.compactMap { $0 } == held.compactMap { $0 }.sorted())
    }

    @Test func churnCommitCrashedAtEveryPoint() throws {
        try crashEverywhere(try TwoGenerations.churn())
    }

    @Test func typeChangeCommitCrashedAtEveryPoint() throws {
        try crashEverywhere(try TwoGenerations.typeChanges())
    }

    /// The first commit onto a replica whose trees do not exist yet (temps above the trees).
    @Test func firstCommitCrashedAtEveryPoint() throws {
        let s = try TwoGenerations.fromNothing()
        #expect(s.m1.count == 0)
        try crashEverywhere(s)
    }

    /// A crash before the commit point, then a staging directory replaced by hand with a
    /// symlink: the rollback never goes through it, and the next commit repairs the tree.
    @Test func rollbackNeverFollowsASymlinkedStagingDirectory() throws {
        let s = try TwoGenerations.churn()
        let template = try Self.replicaAtFirst(s)
        let total = try Self.crashPoints(s, template)
        let journalPoint = try Self.firstRollForward(s, template, total: total)
        let dir = try ReplicaTempDir("crash")
        let r = try Self.crashed(s, template, at: journalPoint - 1, in: dir)
        let bandwidth = "etc/webmin/server-manager/bandwidth"
        let staged = r.temps().filter { $0.hasPrefix(bandwidth + "/") }
        #expect(!staged.isEmpty)
        let outside = try ReplicaTempDir("outside")
        try TreeBuild.copyTree(r.root + "/" + bandwidth, outside.path)
        try TreeBuild.remove(r.root + "/" + bandwidth)
        try TreeBuild.symlink(r.root + "/" + bandwidth, to: outside.path)
        let listing = try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted()

        #expect(try r.store().recover() == .rolledBack)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted() == listing)
        try r.commit(s.m2, generation: 2)
        try r.expectReplica(equals: s.m2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted() == listing)
    }

    /// A crash after the commit point, then crashes during recovery at each of its points.
    @Test func crashDuringRecovery() throws {
        let s = try TwoGenerations.typeChanges()
        let template = try Self.replicaAtFirst(s)
        let total = try Self.crashPoints(s, template)
        let journalPoint = try Self.firstRollForward(s, template, total: total)
        for step in [journalPoint, (journalPoint + total) / 2] {
            // Points a recovery passes from this crash.
            let countDir = try ReplicaTempDir("count")
            let counter = try Self.crashed(s, template, at: step, in: countDir).store()
            try counter.recover()
            let recoveryPoints = counter.crashPoint.stepsPassed
            #expect(recoveryPoints > 1)
            let results = Results(count: recoveryPoints)
            runParallel(recoveryPoints) { i in
                results.set(i, Self.crashDuringRecovery(s, template, step: step, inner: i + 1))
            }
            for (i, result) in results.values.enumerated() {
                #expect(result.problems.isEmpty && result.held == 2, "step \(step), recovery point \(i + 1): \(result.problems)")
            }
        }
    }

    static func crashDuringRecovery(_ s: TwoGenerations, _ template: ReplicaHarness, step: Int, inner: Int) -> (held: UInt64?, problems: [String]) {
        do {
            let dir = try ReplicaTempDir("crash")
            let r = try crashed(s, template, at: step, in: dir)
            let recovering = try r.store(crashAt: inner)
            do {
                try recovering.recover()
                return (nil, ["recovery did not stop at its crash point"])
            } catch is CrashPoint.Simulated {}
            guard try r.store().recover() == .rolledForward else { return (nil, ["second recovery did not roll forward"]) }
            return try wholeness(r, s)
        } catch {
            return (nil, ["\(error)"])
        }
    }

    /// The first crash point whose recovery rolls forward (the journal is written), by
    /// bisection: earlier points roll back, later ones forward.
    static func firstRollForward(_ s: TwoGenerations, _ template: ReplicaHarness, total: Int) throws -> Int {
        func rollsForward(_ step: Int) throws -> Bool {
            let dir = try ReplicaTempDir("probe")
            return try crashed(s, template, at: step, in: dir).store().recover() == .rolledForward
        }
        var low = 1, high = total
        while low < high {
            let mid = (low + high) / 2
            if try rollsForward(mid) { high = mid } else { low = mid + 1 }
        }
        #expect(try rollsForward(low) && !(low > 1 && rollsForward(low - 1)))
        return low
    }
}

/// Results of parallel runs, one slot each.
final class Results: @unchecked Sendable {
    // @unchecked: `slots` is only touched under `lock`.
    private let lock = NSLock()
    private var slots: [(held: UInt64?, problems: [String])]

    init(count: Int) { slots = Array(repeating: (nil, ["not run"]), count: count) }
    func set(_ i: Int, _ value: (held: UInt64?, problems: [String])) { lock.withLock { slots[i] = value } }
    var values: [(held: UInt64?, problems: [String])] { lock.withLock { slots } }
}

import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// The progress hook over a real run (socket pair, real replica server).
@Suite struct ProgressHookTests {
    /// Collects reports from the syncing thread.
    final class Reports: @unchecked Sendable {
        // @unchecked: `items` is only touched under `lock`.
        private let lock = NSLock()
        private var items: [TransferProgress] = []
        func add(_ p: TransferProgress) { lock.withLock { items.append(p) } }
        var all: [TransferProgress] { lock.withLock { items } }
    }

    private func run(_ pair: LocalReplicaPair) throws -> (ReplicaRunResult, [TransferProgress]) {
        let reports = Reports()
        var options = RunOptions()
        options.progress = { reports.add($0) }
        let result = try pair.mirrorRun().run(options)
        return (try #require(result.replicas.first), reports.all)
    }

    private func expectWellFormed(_ reports: [TransferProgress], files: Int) throws {
        let last = try #require(reports.last)
        #expect(last.finished)
        #expect(last.filesTotal == files)
        #expect(last.filesDone == last.filesTotal)
        #expect(last.bytesDone == last.bytesTotal)
        #expect(reports.first?.filesDone == 0 && reports.first?.bytesDone == 0)
        for (a, b) in zip(reports, reports.dropFirst()) {
            #expect(b.bytesDone >= a.bytesDone)
            #expect(b.filesDone >= a.filesDone)
            #expect(b.elapsedSeconds >= a.elapsedSeconds)
            #expect(b.bytesTotal == a.bytesTotal && b.filesTotal == a.filesTotal)
        }
        #expect(reports.dropLast().allSatisfy { !$0.finished })
        // At least one report per file sent (after it), plus the starting one.
        #expect(reports.count >= files + 1)
    }

    @Test func initialCopyReportsEveryFileAndEndsAtTheTotal() throws {
        let pair = try LocalReplicaPair()
        let (r, reports) = try run(pair)
        #expect(r.ok, "\(r.error ?? "")")
        try expectWellFormed(reports, files: r.filesSent + r.deltasSent)
        // The total is the allocated size of each distinct non-empty file content on the master.
        var seen = Set<ContentDigest>()
        var expected: Int64 = 0
        for e in try pair.masterManifest().entries where e.kind == .file && e.size > 0 {
            if let d = e.digest, seen.insert(d).inserted { expected += e.allocatedBytes }
        }
        #expect(expected > 0)
        #expect(reports.last?.bytesTotal == expected)
        #expect(reports.allSatisfy { $0.replica == "r1" })
    }

    @Test func deltaRunReportsToo() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: 7)
        let (r, reports) = try run(pair)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(r.deltasSent >= 1)
        try expectWellFormed(reports, files: r.filesSent + r.deltasSent)
    }

    @Test func anUpToDateReplicaReportsNothing() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        let (r, reports) = try run(pair)
        #expect(r.upToDate)
        #expect(reports.isEmpty)
    }
}

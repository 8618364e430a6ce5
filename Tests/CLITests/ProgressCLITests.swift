import Foundation
import Testing
import TestSupport

/// Transfer progress of the built binary when stderr is not a terminal (a pipe here).
@Suite struct ProgressCLITests {
    /// Lines of `text` that are progress lines for `replica`: `NAME  DONE/TOTAL files  ...`.
    private func progressLines(_ text: String, replica: String) -> [(done: Int, total: Int)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[0] == replica, fields[2] == "files" else { return nil }
            let counts = fields[1].split(separator: "/")
            guard counts.count == 2, let done = Int(counts[0]), let total = Int(counts[1]) else { return nil }
            return (done, total)
        }
    }

    @Test func plainLinesOnAPipeAndNoneWithNoProgress() throws {
        let setup = try CatchUpVerifyCLITests.Setup()
        _ = try Fixtures.churn(URL(fileURLWithPath: setup.master), seed: 3)
        let run = try setup.tool(["sync", "--progress-interval", "0.001"])
        #expect(run.status == 0, "\(run)")
        #expect(!run.stderr.contains("\r"))  // no in-place redraw off a terminal
        let lines = progressLines(run.stderr, replica: "dr1")
        let last = try #require(lines.last, "\(run.stderr)")
        #expect(last.total > 0)
        #expect(last.done == last.total)
        #expect(!progressLines(run.stdout, replica: "dr1").contains { $0.total > 0 })  // stdout stays the report

        _ = try Fixtures.churn(URL(fileURLWithPath: setup.master), seed: 4)
        let quiet = try setup.tool(["sync", "--no-progress"])
        #expect(quiet.status == 0, "\(quiet)")
        #expect(progressLines(quiet.stderr, replica: "dr1").isEmpty)

        let bad = try setup.tool(["sync", "--progress-interval", "0"])
        #expect(bad.status == 64)
    }
}

import FaultLab
import Foundation
import Testing

/// The report's table and JSON carry what the outcomes say.
@Suite struct FaultReportTests {
    @Test func tableAndJSONCarryTheCounts() throws {
        let outcomes = [
            FaultOutcome(kind: .linkCut, trials: 5, converged: 4, lostOrMixed: 0, skipped: 0, seconds: 1.5,
                         figures: ["resumedBytes": 42], notes: ["trial 3: x"]),
            FaultOutcome(kind: .fullDisk, trials: 5, converged: 0, lostOrMixed: 0, skipped: 5, seconds: 0,
                         figures: [:], notes: []),
        ]
        let rows = FaultReport.table(outcomes).split(separator: "\n")
        #expect(rows.count == 3)
        #expect(rows[1].split(separator: " ").prefix(6) == ["link-cut", "5", "4", "0", "1", "0"])
        #expect(rows[2].split(separator: " ").prefix(6) == ["full-disk", "5", "0", "0", "0", "5"])
        let json = try #require(try JSONSerialization.jsonObject(with: FaultReport.json(outcomes)) as? [[String: Any]])
        #expect(json.count == 2)
        #expect(json[0]["kind"] as? String == "link-cut")
        #expect(json[0]["failedChecks"] as? Int == 1)
        #expect((json[0]["figures"] as? [String: Any])?["resumedBytes"] as? Int == 42)
        #expect(!FaultReport.allPassed(outcomes))
        #expect(FaultReport.allPassed([outcomes[1]]))
    }
}

import FaultLab
import Foundation
import Testing

/// Runs a few trials of one fault kind and checks the lab's invariants: nothing lost or mixed,
/// every trial that ran converged, and (unless `maySkip`) none skipped.
func expectFaultsHandled(_ kind: FaultKind, trials: Int = 3, seed: UInt64 = 7, maySkip: Bool = false) throws {
    let outcomes = try FaultLab.run(kinds: [kind], trials: trials, seed: seed)
    let outcome = try #require(outcomes.first)
    let report = FaultReport.table(outcomes) + "\n" + FaultReport.details(outcomes)
    #expect(outcome.kind == kind)
    #expect(outcome.trials == trials)
    #expect(outcome.lostOrMixed == 0, "\(report)")
    #expect(outcome.converged == outcome.trials - outcome.skipped, "\(report)")
    if !maySkip { #expect(outcome.skipped == 0, "\(report)") }
}

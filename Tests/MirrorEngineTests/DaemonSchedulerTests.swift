@testable import MirrorEngine
import Testing

/// The scheduler's decisions, driven by a clock and collection stamps the test sets.
@Suite struct DaemonSchedulerTests {
    let a = CollectionStamp(newestModification: 1_000, entries: 3)
    let b = CollectionStamp(newestModification: 2_000, entries: 3)

    /// A scheduler that has run once at t=0 with the collection at `a`.
    func afterFirstRun(interval: Double = 60, settle: Double = 5, gap: Double = 0) -> Scheduler {
        var s = Scheduler(intervalSeconds: interval, settleSeconds: settle, minimumGapSeconds: gap)
        #expect(s.decide(now: 0, stamp: a) == .startup)
        s.ran(at: 0)
        return s
    }

    @Test func runsAtStartupThenWaitsWhileNothingChanges() {
        var s = afterFirstRun()
        for t in stride(from: 1.0, to: 60, by: 1) { #expect(s.decide(now: t, stamp: a) == nil, "t=\(t)") }
        #expect(s.decide(now: 60, stamp: a) == .intervalExpired)
    }

    @Test func aSettledCollectionTriggersARun() {
        var s = afterFirstRun()
        #expect(s.decide(now: 10, stamp: b) == nil)  // just written
        #expect(s.decide(now: 14, stamp: b) == nil)  // not quiet for 5 s yet
        #expect(s.decide(now: 15, stamp: b) == .collectionSettled)
        s.ran(at: 15)
        #expect(s.decide(now: 30, stamp: b) == nil)  // already mirrored
    }

    @Test func ongoingWritesPostponeTheRunButNeverBeyondTheInterval() {
        var s = afterFirstRun()
        var t = 1.0
        while t < 60 {
            let stamp = CollectionStamp(newestModification: Int64(t * 1000), entries: 3)
            #expect(s.decide(now: t, stamp: stamp) == nil, "t=\(t)")
            t += 2
        }
        #expect(s.decide(now: 61, stamp: CollectionStamp(newestModification: 61_000, entries: 3)) == .intervalExpired)
    }

    @Test func aDeletionCountsAsAChange() {
        var s = afterFirstRun()
        let fewer = CollectionStamp(newestModification: a.newestModification, entries: 2)
        #expect(s.decide(now: 1, stamp: fewer) == nil)
        #expect(s.decide(now: 6, stamp: fewer) == .collectionSettled)
    }

    @Test func aCollectionThatAppearsOrVanishesCountsAsAChange() {
        var s = afterFirstRun()
        #expect(s.decide(now: 1, stamp: nil) == nil)
        #expect(s.decide(now: 6, stamp: nil) == .collectionSettled)
    }

    @Test func writesDuringARunAreMirroredByTheNextOne() {
        var s = afterFirstRun()
        #expect(s.decide(now: 10, stamp: b) == nil)
        #expect(s.decide(now: 15, stamp: b) == .collectionSettled)
        s.ran(at: 15)
        let c = CollectionStamp(newestModification: 3_000, entries: 4)  // written while the run went on
        #expect(s.decide(now: 16, stamp: c) == nil)
        #expect(s.decide(now: 21, stamp: c) == .collectionSettled)
    }

    @Test func theMinimumGapHoldsBackCollectionRunsButNotTheInterval() {
        var s = afterFirstRun(interval: 60, settle: 1, gap: 30)
        #expect(s.decide(now: 2, stamp: b) == nil)
        #expect(s.decide(now: 10, stamp: b) == nil)  // settled, but the last run was 10 s ago
        #expect(s.decide(now: 30, stamp: b) == .collectionSettled)
    }

    @Test func aRunThatDidNotStartIsDueAgainAtTheNextTick() {
        var s = afterFirstRun()
        #expect(s.decide(now: 60, stamp: a) == .intervalExpired)
        // The lock was busy: no `ran`, so the run stays due.
        #expect(s.decide(now: 61, stamp: a) == .intervalExpired)
        s.ran(at: 61)
        #expect(s.decide(now: 62, stamp: a) == nil)
    }

    @Test func aShorterIntervalTakesEffectAtOnce() {
        var s = afterFirstRun(interval: 300)
        #expect(s.decide(now: 10, stamp: a) == nil)
        s.intervalSeconds = 10
        #expect(s.decide(now: 10, stamp: a) == .intervalExpired)
    }
}

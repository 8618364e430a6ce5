/// Why the daemon starts a run.
public enum RunReason: String, Sendable, Hashable {
    /// The daemon has just started (or has never run): catch up at once.
    case startup
    /// The status collection changed since the last run and has been quiet for the settle period.
    case collectionSettled = "collection-settled"
    /// The interval since the last run expired.
    case intervalExpired = "interval"
}

/// Decides when the daemon runs: right after a status collection has finished writing (its
/// stamp changed since the last run, then stayed the same for `settleSeconds`), or when
/// `intervalSeconds` have passed since the last run started, whichever comes first.
///
/// Pure state: times are seconds on any monotonic clock and stamps come from a probe, so the
/// decisions are tested without sleeping.
public struct Scheduler: Sendable {
    /// Longest time between two runs.
    public var intervalSeconds: Double
    /// How long the collection must stay unchanged before it counts as finished.
    public var settleSeconds: Double
    /// Shortest time between two runs started by collection changes, so a tree that changes
    /// in bursts all the time cannot make runs follow each other back to back.
    public var minimumGapSeconds: Double

    /// When the last run started (nil: never).
    public private(set) var lastRunAt: Double?
    /// The collection's stamp when the last run started.
    private var stampAtLastRun: CollectionStamp?
    /// The stamp seen at the last tick, and since when it has been unchanged.
    private var seen: CollectionStamp?
    private var seenSince: Double = 0
    private var hasSeen = false

    public init(intervalSeconds: Double, settleSeconds: Double = 5, minimumGapSeconds: Double = 30) {
        self.intervalSeconds = intervalSeconds
        self.settleSeconds = settleSeconds
        self.minimumGapSeconds = minimumGapSeconds
    }

    /// Looks at the collection once.
    /// - Parameters:
    ///   - now: the current time (monotonic seconds).
    ///   - stamp: what the probe sees now (nil when the watched path is missing).
    /// - Returns: the reason to run now, or nil to wait for the next tick.
    public mutating func decide(now: Double, stamp: CollectionStamp?) -> RunReason? {
        if stamp != seen || !hasSeen {
            seen = stamp
            seenSince = now
            hasSeen = true
        }
        guard let last = lastRunAt else { return .startup }
        if now - last >= intervalSeconds { return .intervalExpired }
        let changed = stamp != stampAtLastRun
        if changed, now - seenSince >= settleSeconds, now - last >= minimumGapSeconds {
            return .collectionSettled
        }
        return nil
    }

    /// Records that a run started (or was attempted and failed to start for a reason other
    /// than a busy lock) at `now`, with the collection as `decide` last saw it.
    public mutating func ran(at now: Double) {
        lastRunAt = now
        stampAtLastRun = seen
    }
}

import Foundation

/// A kind of fault the lab injects into a real master/replica pair (issue 7).
public enum FaultKind: String, Sendable, Codable, CaseIterable {
    /// `replica serve` killed (SIGKILL) at one of its commit's crash points.
    case commitCrash = "commit-crash"
    /// The TCP link between master and sshd cut after a random number of bytes.
    case linkCut = "link-cut"
    /// The master's `cloudmin-mirror sync` killed (SIGKILL) at a random moment.
    case masterCrash = "master-crash"
    /// The replica's filesystem (a small tmpfs) too small, or filled during staging.
    case fullDisk = "full-disk"
    /// Two `sync` processes and a `daemon` started at once.
    case concurrentRuns = "concurrent"
    /// The replica's trees edited by hand: a file changed, a file deleted, a directory
    /// replaced by a symlink pointing outside.
    case handEdit = "hand-edit"
}

/// What the trials of one fault kind found.
public struct FaultOutcome: Sendable, Codable {
    public var kind: FaultKind
    /// Trials run (skipped ones included).
    public var trials: Int
    /// Trials after which the next run left the replica equal to the master, at the master's
    /// generation, with every check of the trial passed.
    public var converged: Int
    /// Trials that left the replica's live trees neither the old nor the new generation, or
    /// the master's own state unreadable (must be 0).
    public var lostOrMixed: Int
    /// Trials that could not run here (the reason is in `notes`).
    public var skipped: Int
    /// Wall time of all trials of this kind, setup included.
    public var seconds: Double
    /// Per-kind figures (for example how many crashes rolled forward, bytes resumed).
    public var figures: [String: Int64]
    /// The first problems found, one line each, prefixed with the trial number.
    public var notes: [String]

    /// Trials that ran and did not converge (lost or mixed ones included).
    public var failedChecks: Int { trials - skipped - converged }

    /// An outcome with these counts (the lab builds them; tests and reports may too).
    public init(kind: FaultKind, trials: Int, converged: Int, lostOrMixed: Int, skipped: Int, seconds: Double,
                figures: [String: Int64], notes: [String]) {
        self.kind = kind
        self.trials = trials
        self.converged = converged
        self.lostOrMixed = lostOrMixed
        self.skipped = skipped
        self.seconds = seconds
        self.figures = figures
        self.notes = notes
    }
}

/// Why the lab could not run.
public struct FaultLabError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The `cloudmin-mirror` executable was not found.
        case binaryNotFound
        /// The fixture generator, `replica init`, sshd or the initial copy failed.
        case setupFailed
    }
    public var code: Code
    /// What was being done.
    public var context: String
    public var detail: String
    public init(_ code: Code, context: String, detail: String) {
        self.code = code
        self.context = context
        self.detail = detail
    }
    public var description: String {
        switch code {
        case .binaryNotFound:
            return "\(context): \(detail); build it with `swift build` or set CLOUDMIN_MIRROR_BINARY"
        case .setupFailed:
            return "\(context) failed: \(detail); check that sshd, ssh-keygen and python3 are installed (scripts/bootstrap)"
        }
    }
}

/// Fault-injection trials against a real master/replica pair: the replica behind a real
/// OpenSSH sshd on loopback with the forced-command entry `replica init` writes, driven by the
/// `cloudmin-mirror` executable and the engine.
public enum FaultLab {
    /// Runs `trials` trials of each kind, one fresh pair per kind.
    /// - Parameters:
    ///   - kinds: the faults to inject, in order.
    ///   - trials: trials per kind.
    ///   - seed: seeds every random choice (crash points, cut offsets, delays, edits).
    ///   - progress: receives one line per trial and per setup step.
    /// - Returns: one outcome per kind.
    /// - Throws: `FaultLabError` when a pair cannot be set up at all.
    public static func run(kinds: [FaultKind], trials: Int, seed: UInt64,
                           progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> [FaultOutcome] {
        var outcomes: [FaultOutcome] = []
        for (index, kind) in kinds.enumerated() {
            var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            outcomes.append(try run(kind, trials: trials, rng: &rng, progress: progress))
        }
        return outcomes
    }

    static func run(_ kind: FaultKind, trials: Int, rng: inout SplitMix64,
                    progress: @escaping @Sendable (String) -> Void) throws -> FaultOutcome {
        let start = Date()
        var tally = Tally(kind: kind)
        let trial: any FaultTrials
        switch kind {
        case .commitCrash: trial = CommitCrashTrials()
        case .linkCut: trial = LinkCutTrials()
        case .masterCrash: trial = MasterCrashTrials()
        case .fullDisk: trial = FullDiskTrials()
        case .concurrentRuns: trial = ConcurrentRunTrials()
        case .handEdit: trial = HandEditTrials()
        }
        progress("\(kind.rawValue): setting up a master, a replica and sshd")
        if let reason = try trial.setUp(rng: &rng, progress: progress) {
            tally.skipAll(trials, reason: reason)
        } else {
            defer { trial.tearDown() }
            for i in 0..<trials {
                let result = trial.run(i, of: trials, rng: &rng)
                tally.add(i, result)
                progress("\(kind.rawValue) \(i + 1)/\(trials): \(result.summary)")
            }
        }
        return tally.outcome(seconds: Date().timeIntervalSince(start))
    }
}

/// One fault kind's trials on one pair.
protocol FaultTrials: AnyObject {
    /// Sets the pair up; returns a reason when the kind cannot run here (every trial skipped).
    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String?
    /// Runs trial `i`; never throws (an unexpected error is a problem of the trial).
    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult
    /// Releases what setUp took (mounts, processes).
    func tearDown()
}

/// What one trial found.
struct TrialResult {
    var converged = false
    var lostOrMixed = false
    var skipped: String?
    var problems: [String] = []
    var figures: [String: Int64] = [:]

    var summary: String {
        if let skipped { return "skipped: \(skipped)" }
        if lostOrMixed { return "LOST OR MIXED: \(problems.joined(separator: "; "))" }
        if converged && problems.isEmpty { return "ok" }
        return "FAILED: \(problems.joined(separator: "; "))"
    }

    /// Runs `body`, turning a thrown error into a problem.
    static func checking(_ body: (inout TrialResult) throws -> Void) -> TrialResult {
        var result = TrialResult()
        do { try body(&result) } catch {
            result.converged = false
            result.problems.append("unexpected error: \(error)")
        }
        if !result.problems.isEmpty { result.converged = false }
        return result
    }
}

/// Adds trial results up into a `FaultOutcome`.
struct Tally {
    var outcome: FaultOutcome

    init(kind: FaultKind) {
        outcome = FaultOutcome(kind: kind, trials: 0, converged: 0, lostOrMixed: 0, skipped: 0, seconds: 0, figures: [:], notes: [])
    }

    mutating func add(_ i: Int, _ r: TrialResult) {
        outcome.trials += 1
        if let reason = r.skipped {
            outcome.skipped += 1
            note("trial \(i + 1): skipped: \(reason)")
            return
        }
        if r.lostOrMixed { outcome.lostOrMixed += 1 }
        if r.converged && !r.lostOrMixed { outcome.converged += 1 }
        for p in r.problems { note("trial \(i + 1): \(p)") }
        for (k, v) in r.figures { outcome.figures[k, default: 0] += v }
    }

    mutating func skipAll(_ n: Int, reason: String) {
        outcome.trials += n
        outcome.skipped += n
        note("skipped: \(reason)")
    }

    private mutating func note(_ line: String) {
        if outcome.notes.count < 20 { outcome.notes.append(line) }
    }

    func outcome(seconds: Double) -> FaultOutcome {
        var o = outcome
        o.seconds = seconds
        return o
    }
}

/// A small seedable generator (SplitMix64), so a seed replays the same trials.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

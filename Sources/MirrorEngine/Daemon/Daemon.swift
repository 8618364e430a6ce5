import TreeDiff
import Foundation
import Logging

/// What the daemon did, for whoever watches it (tests, the command's exit decision).
public enum DaemonEvent: Sendable {
    /// A run finished (some replicas may have failed: see the result).
    case ran(RunReason, RunResult)
    /// A run could not start or failed as a whole (not a master, no replicas, scan error).
    case runFailed(RunReason, String)
    /// Another run (a manual `sync`) holds the lock: the daemon tries again at the next tick.
    case lockBusy
    /// The configuration was reread; the interval now in force.
    case reloaded(intervalSeconds: Double)
    /// The configuration could not be reread; the old one stays in force.
    case reloadFailed(ConfigError)
    /// The metrics file could not be written.
    case metricsFailed(String)
}

/// How the daemon ticks. The interval comes from the configuration (`interval`).
public struct DaemonSettings: Sendable {
    /// How often the collection is looked at, in seconds.
    public var tickSeconds: Double = 1
    /// How long the collection must stay unchanged before a run starts.
    public var settleSeconds: Double = 5
    /// Shortest time between two runs started by collection changes.
    public var minimumGapSeconds: Double = 30
    public init() {}
}

/// `cloudmin-mirror daemon`: mirror runs, one at a time on the calling thread, whenever the
/// `Scheduler` says so, until `control` asks it to stop. Logs one line per replica per run and one
/// per error, and rewrites the metrics file after every run.
public final class Daemon {
    public typealias RunFactory = (MirrorContext) throws -> MirrorRun

    private var context: MirrorContext
    private let reloadContext: () throws(ConfigError) -> MirrorContext
    private let makeRun: RunFactory
    private let control: DaemonControl
    private let settings: DaemonSettings
    private let logger: Logger
    private let clock: () -> Double
    private let probe: (MirrorContext) -> CollectionStamp?
    /// Receives every event, on the daemon's thread.
    public var observer: (DaemonEvent) -> Void = { _ in }
    /// Failed runs per replica since start (`cloudmin_mirror_replica_failures_total`).
    public private(set) var failuresTotal: [String: Int] = [:]
    private var scheduler: Scheduler
    private var busyAnnounced = false
    /// Each replica's replication connection, kept open between runs.
    public let pool: ConnectionPool

    /// - Parameters:
    ///   - context: the configuration in force at start.
    ///   - reloadContext: rereads the configuration on SIGHUP (`MirrorContext(root:configPath:)`).
    ///   - makeRun: creates each run; tests put a connector of their own on it.
    ///   - control: stop and reload requests.
    ///   - settings: tick and settle periods.
    ///   - logger: where run and error lines go.
    ///   - clock: monotonic seconds.
    ///   - probe: the collection's stamp (`CollectionProbe.stamp`).
    public init(context: MirrorContext,
                reloadContext: @escaping () throws(ConfigError) -> MirrorContext,
                makeRun: @escaping RunFactory = { MirrorRun(context: $0) },
                control: DaemonControl,
                settings: DaemonSettings = DaemonSettings(),
                logger: Logger = Logger(label: "cloudmin-mirror"),
                clock: @escaping () -> Double = Daemon.monotonicNow,
                probe: @escaping (MirrorContext) -> CollectionStamp? = CollectionProbe.stamp) {
        self.context = context
        self.reloadContext = reloadContext
        self.makeRun = makeRun
        self.control = control
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.probe = probe
        scheduler = Scheduler(intervalSeconds: Double(context.config.intervalSeconds),
                              settleSeconds: settings.settleSeconds, minimumGapSeconds: settings.minimumGapSeconds)
        pool = ConnectionPool(backoff: BackoffPolicy(capSeconds: Double(context.config.intervalSeconds)), clock: clock)
    }

    /// The interval in force (from the configuration last loaded).
    public var intervalSeconds: Double { scheduler.intervalSeconds }

    /// Runs until a stop is requested; a run in progress is finished first.
    public func run() {
        logger.info("daemon started", metadata: [
            "interval": "\(Int(scheduler.intervalSeconds))s",
            "watching": "\(context.config.collectionMarker ?? context.config.collectedDir)",
        ])
        while !control.stopRequested {
            if control.takeReload() { reload() }
            let now = clock()
            if let reason = scheduler.decide(now: now, stamp: probe(context)) {
                attempt(reason, at: now)
            }
            if control.stopRequested { break }
            control.sleep(seconds: settings.tickSeconds)
        }
        pool.closeAll()
        logger.info("daemon stopped")
    }

    private func reload() {
        do {
            let fresh = try reloadContext()
            context = fresh
            scheduler.intervalSeconds = Double(fresh.config.intervalSeconds)
            pool.backoff.capSeconds = scheduler.intervalSeconds
            pool.retain(fresh.config.replicas)  // a changed or removed replica reconnects
            logger.info("configuration reloaded", metadata: ["interval": "\(fresh.config.intervalSeconds)s"])
            observer(.reloaded(intervalSeconds: scheduler.intervalSeconds))
        } catch {
            logger.error("configuration not reloaded; keeping the one in force", metadata: ["error": "\(error)"])
            observer(.reloadFailed(error))
        }
    }

    private func attempt(_ reason: RunReason, at now: Double) {
        control.setRunning(true)
        defer { control.setRunning(false) }
        do {
            let run = try makeRun(context)
            run.pool = pool
            let result = try run.run(RunOptions())
            busyAnnounced = false
            scheduler.ran(at: now)
            for r in result.replicas { logReplica(r, reason: reason) }
            writeMetrics()
            observer(.ran(reason, result))
        } catch let busy as RunLock.Busy {
            if !busyAnnounced {
                logger.notice("another run holds the lock; trying again at the next tick", metadata: ["lock": "\(busy.path)"])
                busyAnnounced = true
            }
            observer(.lockBusy)
        } catch {
            busyAnnounced = false
            scheduler.ran(at: now)  // retry at the next interval, not at every tick
            logger.error("mirror run failed", metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
            writeMetrics()
            observer(.runFailed(reason, "\(error)"))
        }
    }

    private func logReplica(_ r: ReplicaRunResult, reason: RunReason) {
        var metadata: Logger.Metadata = [
            "replica": "\(r.name)", "generation": "\(r.generation)", "files": "\(r.filesSent)",
            "deltas": "\(r.deltasSent)", "bytes": "\(r.bytesSent)", "seconds": "\(String(format: "%.2f", r.seconds))",
            "reason": "\(reason.rawValue)",
        ]
        if let error = r.error {
            failuresTotal[r.name, default: 0] += 1
            metadata["error"] = "\(error)"
            logger.error("replica run failed", metadata: metadata)
        } else {
            logger.info(r.upToDate ? "replica up to date" : "replica updated", metadata: metadata)
        }
    }

    private func writeMetrics() {
        guard let file = context.config.metricsFile else { return }
        do {
            let report = try StatusReport.collect(context)
            let text = PrometheusMetrics.render(report, failuresTotal: failuresTotal)
            try AtomicFile.write(Array(text.utf8), to: context.paths.host(file), mode: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            logger.error("metrics file not written", metadata: ["file": "\(file)", "error": "\(error)"])
            observer(.metricsFailed("\(error)"))
        }
    }

    /// Seconds on the monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`).
    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

import Foundation
import Logging
@testable import MirrorEngine

/// A daemon on a `LocalReplicaPair`, ticking fast, with a watchdog that stops it if a test's
/// expected events never come (the test then fails on what it saw).
struct DaemonHarness {
    let pair: LocalReplicaPair
    let control = DaemonControl()
    let log = CapturedLog()
    let clock = SkewedClock()

    /// Writes the master's configuration: `lines` first, then the pair's replica sections.
    func configure(_ lines: [String]) throws {
        var text = lines.joined(separator: "\n") + "\n"
        for name in pair.replicaNames { text += "[replica \(name)]\nhost = local-\(name)\n" }
        try text.write(toFile: pair.masterRoot + MirrorConfig.defaultPath, atomically: true, encoding: .utf8)
    }

    /// A daemon whose runs go over the pair's socket connector.
    func daemon(settle: Double = 0.3, watchdogSeconds: Double = 60) throws -> Daemon {
        var settings = DaemonSettings()
        settings.tickSeconds = 0.05
        settings.settleSeconds = settle
        settings.minimumGapSeconds = 0
        let pair = self.pair
        let root = pair.masterRoot
        let daemon = Daemon(context: try pair.master,
                            reloadContext: { () throws(ConfigError) in try MirrorContext(root: root) },
                            makeRun: { _ in try pair.mirrorRun() },
                            control: control, settings: settings,
                            logger: Logger(label: "cloudmin-mirror") { _ in log }, clock: clock.now)
        let control = self.control
        DispatchQueue.global().asyncAfter(deadline: .now() + watchdogSeconds) { control.requestStop() }
        return daemon
    }
}

extension LocalReplicaPair {
    var replicaNames: [String] {
        (try? master.config.replicas.map(\.name)) ?? ["r1"]
    }
}

/// The monotonic clock plus a skew a test moves forward, so an interval of minutes expires at once.
final class SkewedClock {
    var skew = 0.0
    func now() -> Double { Daemon.monotonicNow() + skew }
}

/// A swift-log handler that keeps every record, so tests can check what the daemon logged
/// (levels and metadata, not wording).
final class CapturedLog: LogHandler, @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched while `lock` is held; `metadata` and
    // `logLevel` are set only before the logger is handed to the daemon.
    struct Record {
        var level: Logger.Level
        var metadata: [String: String]
    }
    private let lock = NSLock()
    private var stored: [Record] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let flat = (event.metadata ?? [:]).mapValues { "\($0)" }
        lock.withLock { stored.append(Record(level: event.level, metadata: flat)) }
    }

    var records: [Record] { lock.withLock { stored } }
}

extension DaemonEvent {
    /// The reason and result when this is a finished run.
    var run: (RunReason, RunResult)? {
        if case let .ran(reason, result) = self { return (reason, result) }
        return nil
    }

    var isLockBusy: Bool {
        if case .lockBusy = self { return true }
        return false
    }
}

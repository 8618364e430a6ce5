import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// The daemon against a real master and replica (socket pair), with short periods.
@Suite struct DaemonTests {
    @Test func runsAtStartThenMirrorsASettledCollectionAndStops() throws {
        let h = DaemonHarness(pair: try LocalReplicaPair())
        try h.configure(["interval = 3600", "metrics_file = /var/lib/cloudmin-mirror/metrics.prom"])
        let daemon = try h.daemon()
        var events: [DaemonEvent] = []
        var metricsAfterFirst = ""
        var replicaAfterFirst: ContentDigest?
        daemon.observer = { event in
            events.append(event)
            guard case .ran = event else { return }
            if events.count == 1 {
                metricsAfterFirst = (try? String(contentsOfFile: h.pair.masterRoot + "/var/lib/cloudmin-mirror/metrics.prom", encoding: .utf8)) ?? ""
                replicaAfterFirst = try? h.pair.replicaManifest().treeDigest
                _ = try? Fixtures.churn(URL(fileURLWithPath: h.pair.masterRoot), seed: 3)  // rewrites every status
            } else {
                h.control.requestStop()
            }
        }
        daemon.run()

        let runs = events.compactMap(\.run)
        try #require(runs.count == 2, "\(events)")
        #expect(runs[0].0 == .startup)
        #expect(runs[1].0 == .collectionSettled)  // the interval is an hour: only the collection can start it
        #expect(runs[1].1.generation == runs[0].1.generation + 1)
        #expect(runs.allSatisfy { $0.1.failed.isEmpty })
        #expect(replicaAfterFirst == runs[0].1.treeDigest)
        #expect(try h.pair.replicaManifest().treeDigest == h.pair.masterManifest().treeDigest)
        #expect(metricsAfterFirst.contains("cloudmin_mirror_replica_generation{replica=\"r1\"} \(runs[0].1.generation)\n"))
        #expect(metricsAfterFirst.contains("cloudmin_mirror_replica_lag_seconds{replica=\"r1\"} 0.0\n"))
        #expect(metricsAfterFirst.contains("cloudmin_mirror_master_generation \(runs[0].1.generation)\n"))

        // One info line per replica per run, carrying the run's figures.
        let lines = h.log.records.filter { $0.metadata["replica"] == "r1" }
        #expect(lines.count == 2)
        for (line, run) in zip(lines, runs) {
            let r = try #require(run.1.replicas.first)
            #expect(line.level == .info)
            #expect(line.metadata["generation"] == "\(r.generation)")
            #expect(line.metadata["bytes"] == "\(r.bytesSent)")
            #expect(line.metadata["files"] == "\(r.filesSent)")
            #expect(line.metadata["seconds"] != nil)
        }
    }

    @Test func aStopDuringARunLetsTheRunFinish() throws {
        let pair = try LocalReplicaPair()
        let h = DaemonHarness(pair: pair)
        var settings = DaemonSettings()
        settings.tickSeconds = 0.05
        let control = h.control
        let daemon = Daemon(context: try pair.master, reloadContext: { () throws(ConfigError) in try MirrorContext(root: pair.masterRoot) },
                            makeRun: { _ in
                                control.requestStop()  // as SIGTERM arriving once the run has begun
                                return try pair.mirrorRun()
                            }, control: control, settings: settings)
        var events: [DaemonEvent] = []
        daemon.observer = { events.append($0) }
        daemon.run()
        try #require(events.count == 1, "\(events)")
        guard case let .ran(_, result) = events[0] else { Issue.record("\(events)"); return }
        #expect(result.failed.isEmpty)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
        #expect(!control.runInProgress)
    }

    @Test func aBusyLockPostponesTheRunUntilItIsFree() throws {
        let h = DaemonHarness(pair: try LocalReplicaPair())
        try h.configure(["interval = 3600"])
        var held: RunLock? = try h.pair.master.lock()  // a manual `sync` in progress
        let daemon = try h.daemon()
        var events: [DaemonEvent] = []
        daemon.observer = { event in
            events.append(event)
            switch event {
            case .lockBusy: if events.count == 3 { held = nil }  // the sync ends after a few ticks
            case .ran: h.control.requestStop()
            default: break
            }
        }
        daemon.run()
        withExtendedLifetime(held) {}
        let busy = events.filter(\.isLockBusy).count
        #expect(busy == 3)
        try #require(events.count == 4, "\(events)")
        guard case let .ran(reason, result) = events[3] else { Issue.record("\(events)"); return }
        #expect(reason == .startup)
        #expect(result.failed.isEmpty)
        // The wait is logged once, not at every tick.
        #expect(h.log.records.filter { $0.level == .notice && $0.metadata["lock"] != nil }.count == 1)
    }

    @Test func sighupRereadsTheConfigurationAndKeepsTheOldOneWhenBad() throws {
        let h = DaemonHarness(pair: try LocalReplicaPair())
        try h.configure(["interval = 3600"])
        let daemon = try h.daemon()
        var events: [DaemonEvent] = []
        daemon.observer = { event in
            events.append(event)
            switch event {
            case .ran(.startup, _):
                try? "interval = soon\n".write(toFile: h.pair.masterRoot + MirrorConfig.defaultPath, atomically: true, encoding: .utf8)
                h.control.requestReload()
            case .reloadFailed:
                try? h.configure(["interval = 10"])
                h.control.requestReload()
            case .reloaded:
                h.clock.skew += 10  // ten seconds on: the new interval expires, the old one would not
            case .ran(.intervalExpired, _):
                h.control.requestStop()
            default: break
            }
        }
        daemon.run()
        try #require(events.count == 4, "\(events)")
        guard case let .reloadFailed(error) = events[1] else { Issue.record("\(events)"); return }
        #expect(error.code == .badValue)
        #expect(error.line == 1)
        guard case let .reloaded(interval) = events[2] else { Issue.record("\(events)"); return }
        #expect(interval == 10)
        #expect(daemon.intervalSeconds == 10)
        guard case .ran(.intervalExpired, let result) = events[3] else { Issue.record("\(events)"); return }
        #expect(result.failed.isEmpty)
    }

    @Test func aFailingReplicaIsLoggedAndCountedAndTheDaemonGoesOn() throws {
        let pair = try LocalReplicaPair()
        let h = DaemonHarness(pair: pair)
        try h.configure(["interval = 300", "metrics_file = /metrics.prom"])
        var settings = DaemonSettings()
        settings.tickSeconds = 0.05
        let daemon = Daemon(context: try pair.master, reloadContext: { () throws(ConfigError) in try MirrorContext(root: pair.masterRoot) },
                            makeRun: { _ in try pair.mirrorRun(serverFingerprint: "SHA256:someoneElse") },
                            control: h.control, settings: settings, logger: .init(label: "cloudmin-mirror") { _ in h.log },
                            clock: h.clock.now)
        var runs = 0
        daemon.observer = { event in
            if case .ran = event { runs += 1 }
            h.clock.skew += 300  // the next interval expires at the next tick
            if runs == 2 { h.control.requestStop() }
        }
        daemon.run()
        #expect(runs == 2)
        #expect(daemon.failuresTotal["r1"] == 2)
        let errors = h.log.records.filter { $0.level == .error && $0.metadata["replica"] == "r1" }
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.metadata["error"] != nil })
        let metrics = try String(contentsOfFile: pair.masterRoot + "/metrics.prom", encoding: .utf8)
        #expect(metrics.contains("cloudmin_mirror_replica_failures_total{replica=\"r1\"} 2\n"))
        #expect(metrics.contains("cloudmin_mirror_replica_lag_seconds{replica=\"r1\"} +Inf\n"))
    }
}

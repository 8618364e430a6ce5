import Foundation
import Logging
@testable import MirrorEngine
import TestSupport
import Testing

/// The daemon keeps each replica's connection across its runs, and a reload that changes the
/// replica's settings makes it reconnect.
@Suite struct WarmSessionDaemonTests {
    @Test func theDaemonReusesTheConnectionUntilTheReplicaConfigChanges() throws {
        let pair = try LocalReplicaPair()
        let h = DaemonHarness(pair: pair)
        try h.configure(["interval = 3600"])
        var settings = DaemonSettings()
        settings.tickSeconds = 0.05
        settings.settleSeconds = 0.3
        settings.minimumGapSeconds = 0
        var connects = 0
        let root = pair.masterRoot
        let daemon = Daemon(context: try pair.master,
                            reloadContext: { () throws(ConfigError) in try MirrorContext(root: root) },
                            makeRun: { _ in
                                let run = try pair.mirrorRun()
                                let plain = run.connector
                                run.connector = { connects += 1; return try plain($0, $1) }
                                return run
                            },
                            control: h.control, settings: settings, clock: h.clock.now)
        let control = h.control
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { control.requestStop() }
        var runs: [RunResult] = []
        var connectsAfter: [Int] = []
        var idleAfter: [[String]] = []
        daemon.observer = { event in
            guard case .ran(_, let result) = event else { return }
            runs.append(result)
            connectsAfter.append(connects)
            idleAfter.append(daemon.pool.idleReplicas)
            switch runs.count {
            case 1:
                _ = try? Fixtures.churn(URL(fileURLWithPath: root), seed: 31)
            case 2:
                // The replica moves to another port: its warm connection must go.
                let text = "interval = 3600\n[replica r1]\nhost = local-r1\nport = 2200\n"
                try? text.write(toFile: root + MirrorConfig.defaultPath, atomically: true, encoding: .utf8)
                control.requestReload()
                _ = try? Fixtures.churn(URL(fileURLWithPath: root), seed: 32)
            default:
                control.requestStop()
            }
        }
        daemon.run()

        try #require(runs.count == 3, "\(runs.count) runs")
        #expect(runs.allSatisfy { $0.failed.isEmpty })
        #expect(connectsAfter == [1, 1, 2])
        #expect(idleAfter.allSatisfy { $0 == ["r1"] })
        #expect(daemon.pool.idleReplicas.isEmpty)  // closed with a goodbye at stop
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }
}

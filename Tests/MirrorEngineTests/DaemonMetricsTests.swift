import Foundation
@testable import MirrorEngine
import Testing

/// The Prometheus text format is the contract with the scraper: its exact form is tested.
@Suite struct DaemonMetricsTests {
    @Test func rendersEveryFamilyWithHelpTypeAndOneSamplePerReplica() {
        let report = StatusReport(
            role: "master", masterFingerprint: nil, lineage: "l", generation: 42, treeDigest: nil, trees: [],
            replicas: [
                .init(name: "dr1", host: "a", port: 22, generation: 42, behind: 0, lastSuccess: 100, lagSeconds: 0,
                      lastAttempt: 100, lastBytesSent: 12345, lastSeconds: 1.5, lastError: nil, consecutiveFailures: 0),
                .init(name: "dr2", host: "b", port: 22, generation: 40, behind: 2, lastSuccess: 50, lagSeconds: 612.25,
                      lastAttempt: 100, lastBytesSent: 0, lastSeconds: 0.25, lastError: "cut", consecutiveFailures: 3),
                .init(name: "new", host: "c", port: 22, generation: 0, behind: 42, lastSuccess: nil, lagSeconds: nil,
                      lastAttempt: nil, lastBytesSent: 0, lastSeconds: 0, lastError: nil, consecutiveFailures: 0),
            ])
        let text = PrometheusMetrics.render(report, failuresTotal: ["dr2": 5])
        #expect(text == """
            # HELP cloudmin_mirror_master_generation Generation of the master's trees.
            # TYPE cloudmin_mirror_master_generation gauge
            cloudmin_mirror_master_generation 42
            # HELP cloudmin_mirror_replica_generation Generation the replica holds.
            # TYPE cloudmin_mirror_replica_generation gauge
            cloudmin_mirror_replica_generation{replica="dr1"} 42
            cloudmin_mirror_replica_generation{replica="dr2"} 40
            cloudmin_mirror_replica_generation{replica="new"} 0
            # HELP cloudmin_mirror_replica_lag_seconds Seconds since the replica last equalled the master (0 in step, +Inf never).
            # TYPE cloudmin_mirror_replica_lag_seconds gauge
            cloudmin_mirror_replica_lag_seconds{replica="dr1"} 0.0
            cloudmin_mirror_replica_lag_seconds{replica="dr2"} 612.25
            cloudmin_mirror_replica_lag_seconds{replica="new"} +Inf
            # HELP cloudmin_mirror_replica_last_run_seconds Duration of the replica's last run in seconds.
            # TYPE cloudmin_mirror_replica_last_run_seconds gauge
            cloudmin_mirror_replica_last_run_seconds{replica="dr1"} 1.5
            cloudmin_mirror_replica_last_run_seconds{replica="dr2"} 0.25
            cloudmin_mirror_replica_last_run_seconds{replica="new"} 0.0
            # HELP cloudmin_mirror_replica_last_run_bytes_sent Bytes sent to the replica by its last run.
            # TYPE cloudmin_mirror_replica_last_run_bytes_sent gauge
            cloudmin_mirror_replica_last_run_bytes_sent{replica="dr1"} 12345
            cloudmin_mirror_replica_last_run_bytes_sent{replica="dr2"} 0
            cloudmin_mirror_replica_last_run_bytes_sent{replica="new"} 0
            # HELP cloudmin_mirror_replica_consecutive_failures Failed runs since the replica's last success.
            # TYPE cloudmin_mirror_replica_consecutive_failures gauge
            cloudmin_mirror_replica_consecutive_failures{replica="dr1"} 0
            cloudmin_mirror_replica_consecutive_failures{replica="dr2"} 3
            cloudmin_mirror_replica_consecutive_failures{replica="new"} 0
            # HELP cloudmin_mirror_replica_failures_total Failed runs to the replica since the daemon started.
            # TYPE cloudmin_mirror_replica_failures_total counter
            cloudmin_mirror_replica_failures_total{replica="dr1"} 0
            cloudmin_mirror_replica_failures_total{replica="dr2"} 5
            cloudmin_mirror_replica_failures_total{replica="new"} 0

            """)
    }

    @Test func labelValuesAreEscaped() {
        #expect(PrometheusMetrics.escape(#"a"b\c"# + "\nd") == #"a\"b\\c\nd"#)
    }
}

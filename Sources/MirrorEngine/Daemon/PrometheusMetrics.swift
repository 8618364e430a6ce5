/// The Prometheus text exposition format (version 0.0.4) of a master's status, for node_exporter's
/// textfile collector or any scraper that reads a file.
///
/// Metrics, one sample per replica labelled `replica="NAME"`:
/// - `cloudmin_mirror_master_generation` (gauge, no label): the master's generation.
/// - `cloudmin_mirror_replica_generation` (gauge): the generation the replica holds.
/// - `cloudmin_mirror_replica_lag_seconds` (gauge): seconds since the replica last equalled the
///   master; 0 when in step, `+Inf` when it never was (so `lag > N` alerts fire).
/// - `cloudmin_mirror_replica_last_run_seconds` (gauge): duration of its last run.
/// - `cloudmin_mirror_replica_last_run_bytes_sent` (gauge): bytes its last run sent.
/// - `cloudmin_mirror_replica_consecutive_failures` (gauge): failed runs since its last success.
/// - `cloudmin_mirror_replica_failures_total` (counter): failed runs counted by this daemon since
///   it started (a counter reset on restart, as Prometheus expects of counters).
public enum PrometheusMetrics {
    /// Renders the report.
    /// - Parameters:
    ///   - report: the master's status (`StatusReport.collect`).
    ///   - failuresTotal: failed runs per replica name since the daemon started (missing: 0).
    /// - Returns: the file's text, ending in a newline.
    public static func render(_ report: StatusReport, failuresTotal: [String: Int]) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(label: String?, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples {
                out += name + (s.label.map { "{replica=\"\(escape($0))\"}" } ?? "") + " " + s.value + "\n"
            }
        }
        let replicas = report.replicas
        family("cloudmin_mirror_master_generation", "gauge", "Generation of the master's trees.",
               [(nil, "\(report.generation)")])
        family("cloudmin_mirror_replica_generation", "gauge", "Generation the replica holds.",
               replicas.map { ($0.name, "\($0.generation)") })
        family("cloudmin_mirror_replica_lag_seconds", "gauge",
               "Seconds since the replica last equalled the master (0 in step, +Inf never).",
               replicas.map { ($0.name, number($0.lagSeconds ?? .infinity)) })
        family("cloudmin_mirror_replica_last_run_seconds", "gauge", "Duration of the replica's last run in seconds.",
               replicas.map { ($0.name, number($0.lastSeconds)) })
        family("cloudmin_mirror_replica_last_run_bytes_sent", "gauge", "Bytes sent to the replica by its last run.",
               replicas.map { ($0.name, "\($0.lastBytesSent)") })
        family("cloudmin_mirror_replica_consecutive_failures", "gauge", "Failed runs since the replica's last success.",
               replicas.map { ($0.name, "\($0.consecutiveFailures)") })
        family("cloudmin_mirror_replica_failures_total", "counter", "Failed runs to the replica since the daemon started.",
               replicas.map { ($0.name, "\(failuresTotal[$0.name] ?? 0)") })
        return out
    }

    /// A sample value: Prometheus spells infinities `+Inf`/`-Inf` and not-a-number `NaN`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return "\(value)"
    }

    /// Escapes a label value (`\`, `"`, newline), as the format requires.
    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}

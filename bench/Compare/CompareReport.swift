import Foundation

/// Prints the comparison table and the targets, and writes the JSON.
enum CompareReport {
    static let cm = "cloudmin-mirror"

    static func table(_ r: CompareResults, rsyncTools: [String]) -> [String] {
        var out: [String] = []
        let columns = [cm] + rsyncTools
        var header = pad("phase", 11) + pad("metric", 16) + columns.map { lpad($0, 16) }.joined()
        header += rsyncTools.map { lpad("cm/" + ($0 == "rsync" ? "rsync" : $0.replacingOccurrences(of: "rsync ", with: "")), 11) }.joined()
        out.append(header)
        out.append(String(repeating: "-", count: header.count))
        for phase in r.phases {
            let metrics: [(String, (ToolFigures) -> Double?, (Double) -> String)] = [
                ("wire bytes", { Double($0.wireBytes) }, { bytes($0) }),
                ("wall s", { $0.wallSeconds }, { String(format: "%.3f", $0) }),
                ("..replica idle s", { $0.untilReplicaIdleSeconds }, { String(format: "%.3f", $0) }),
                ("master CPU s", { $0.cpuSeconds }, { String(format: "%.3f", $0) }),
                ("master RSS MiB", { Double($0.masterMaxRSSKiB) / 1024 }, { String(format: "%.1f", $0) }),
                ("replica CPU s", { $0.replicaCPUSeconds }, { String(format: "%.3f", $0) }),
                ("replica RSS MiB", { $0.replicaMaxRSSKiB.map { Double($0) / 1024 } }, { String(format: "%.1f", $0) }),
            ]
            for (i, (name, value, format)) in metrics.enumerated() {
                var line = pad(i == 0 ? phase.phase : "", 11) + pad(name, 16)
                let mine = phase.figures(cm).flatMap(value)
                for tool in columns {
                    line += lpad(phase.figures(tool).flatMap(value).map(format) ?? "-", 16)
                }
                for tool in rsyncTools {
                    let theirs = phase.figures(tool).flatMap(value)
                    line += lpad(ratio(mine, theirs), 11)
                }
                out.append(line)
            }
            let checks = phase.tools.map { "\($0.tool) \($0.replicasEqualMaster ? "ok" : "DIFFERS")" }.joined(separator: ", ")
            out.append(pad("", 11) + "replica == master minus exclusions: \(checks)")
            if let c = phase.changed {
                out.append(pad("", 11) + "changed data: \(c.files) files, \(c.blocks) image blocks, \(bytes(Double(c.rawBytes))) raw, \(bytes(Double(c.compressedBytes))) deflate -1")
            }
        }
        return out
    }

    /// The issue's targets beside the measured ratios (reported, not asserted).
    static func targets(_ r: CompareResults, rsyncTools: [String]) -> [String] {
        var out = ["targets (reported, not asserted):"]
        func line(_ what: String, _ measured: Double?, _ limit: Double) {
            guard let measured else { out.append("  \(pad(what, 58)) -"); return }
            out.append("  \(pad(what, 58)) \(String(format: "%7.2fx", measured))  target <= \(String(format: "%.2f", limit))x  \(measured <= limit ? "met" : "MISSED")")
        }
        let churns = r.phases.filter { $0.kind == .churn }
        for p in churns {
            guard let mine = p.figures(cm) else { continue }
            if let c = p.changed, c.compressedBytes > 0 {
                line("\(p.phase): bytes / compressed changed data", Double(mine.wireBytes) / Double(c.compressedBytes), 1.1)
            }
            if let b = p.figures("rsync -B4096") {
                line("\(p.phase): bytes / rsync -B4096 bytes", Double(mine.wireBytes) / Double(max(1, b.wireBytes)), 1.0)
            }
            let best = rsyncTools.compactMap { p.figures($0)?.wallSeconds }.min()
            line("\(p.phase): wall / best rsync wall", best.map { mine.wallSeconds / $0 }, 0.5)
        }
        for p in r.phases where p.kind == .noChange {
            guard let mine = p.figures(cm) else { continue }
            let best = rsyncTools.compactMap { p.figures($0)?.wallSeconds }.min()
            line("no change: wall / best rsync wall", best.map { mine.wallSeconds / $0 }, 0.5)
        }
        for p in r.phases where p.kind == .initial {
            guard let mine = p.figures(cm) else { continue }
            let best = rsyncTools.compactMap { p.figures($0)?.wallSeconds }.min()
            line("initial: wall / best rsync wall", best.map { mine.wallSeconds / $0 }, 0.8)
        }
        if let fan = r.phases.first(where: { $0.kind == .fanout })?.figures(cm), !churns.isEmpty {
            let one = churns.compactMap { $0.figures(cm)?.cpuSeconds }.reduce(0, +) / Double(churns.count)
            line("fan-out: master CPU / one replica's (mean churn cycle)", one > 0 ? fan.cpuSeconds / one : nil, 1.3)
        }
        let peak = { (tool: String, side: (ToolFigures) -> Int?) in r.phases.compactMap { $0.figures(tool).flatMap(side) }.max() }
        for (side, get) in [("master", { (t: ToolFigures) -> Int? in t.masterMaxRSSKiB }), ("replica", { $0.replicaMaxRSSKiB })] {
            let mine = peak(cm, get)
            let theirs = rsyncTools.compactMap { peak($0, get) }.min()
            line("peak \(side) RSS / rsync's (all phases)", mine.flatMap { m in theirs.map { Double(m) / Double(max(1, $0)) } }, 1.0)
        }
        if let w = r.warm {
            out.append("  \(pad("no change, warm session (median of 7, in-process)", 58)) \(String(format: "%7.1f ms", w.secondRunSeconds * 1000))  target <= 50 ms  \(w.secondRunSeconds <= w.targetSeconds ? "met" : "MISSED") (\(w.files) entries, \(w.secondRunWireBytes) wire bytes)")
        }
        return out
    }

    static func writeJSON(_ r: CompareResults, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(r).write(to: URL(fileURLWithPath: path))
    }

    private static func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "-" }
        return String(format: "%.2fx", a / b)
    }

    static func bytes(_ n: Double) -> String {
        if n >= 10 * 1024 * 1024 { return String(format: "%.1f MiB", n / 1048576) }
        if n >= 10 * 1024 { return String(format: "%.1f KiB", n / 1024) }
        return String(format: "%.0f B", n)
    }

    private static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
    private static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}

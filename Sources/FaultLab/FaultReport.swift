import Foundation

/// Renders fault outcomes as a text table (one row per kind) or JSON.
public enum FaultReport {
    /// A fixed-width table: kind, trials, converged, lost/mixed, failed checks, skipped, seconds.
    /// - Parameter outcomes: what `FaultLab.run` returned.
    public static func table(_ outcomes: [FaultOutcome]) -> String {
        var lines = [pad("fault", 14) + pad("trials", 8) + pad("converged", 11) + pad("lost/mixed", 12)
                     + pad("failed", 8) + pad("skipped", 9) + "wall time"]
        for o in outcomes {
            lines.append(pad(o.kind.rawValue, 14) + pad("\(o.trials)", 8) + pad("\(o.converged)", 11)
                         + pad("\(o.lostOrMixed)", 12) + pad("\(o.failedChecks)", 8) + pad("\(o.skipped)", 9)
                         + String(format: "%.1f s", o.seconds))
        }
        return lines.joined(separator: "\n")
    }

    /// Per-kind figures and the first problems, below the table.
    public static func details(_ outcomes: [FaultOutcome]) -> String {
        var lines: [String] = []
        for o in outcomes {
            if !o.figures.isEmpty {
                lines.append("\(o.kind.rawValue): " + o.figures.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            for note in o.notes { lines.append("  \(o.kind.rawValue) \(note)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The outcomes as a JSON array (keys sorted), with `failedChecks` included.
    public static func json(_ outcomes: [FaultOutcome]) throws -> Data {
        struct Row: Encodable {
            let outcome: FaultOutcome
            func encode(to encoder: any Encoder) throws {
                try outcome.encode(to: encoder)
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(outcome.failedChecks, forKey: .failedChecks)
            }
            enum Key: String, CodingKey { case failedChecks }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(outcomes.map(Row.init))
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// Whether every kind that ran converged on every trial with nothing lost or mixed.
    public static func allPassed(_ outcomes: [FaultOutcome]) -> Bool {
        outcomes.allSatisfy { $0.lostOrMixed == 0 && $0.converged == $0.trials - $0.skipped }
    }
}

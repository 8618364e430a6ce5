import FaultLab
import Foundation

/// `cloudmin-bench faults [--trials N] [--seed S] [--only kind,...] [--json PATH]`: the fault
/// injection suite of issue 7 against a real master/replica pair behind a loopback sshd.
/// Prints one line per trial, then a table per fault kind; exits 1 when any trial lost or
/// mixed a generation or did not converge.
func runFaultsBench(arguments: [String]) throws {
    var trials = 100
    var seed: UInt64 = 1
    var kinds = FaultKind.allCases
    var jsonPath: String?
    var rest = arguments[...]
    func value(_ flag: String) throws -> String {
        guard let v = rest.popFirst() else { throw FaultsBenchUsage(message: "\(flag) needs a value") }
        return v
    }
    while let arg = rest.popFirst() {
        switch arg {
        case "--trials":
            guard let n = Int(try value(arg)), n > 0 else { throw FaultsBenchUsage(message: "--trials must be a positive number") }
            trials = n
        case "--seed":
            guard let s = UInt64(try value(arg)) else { throw FaultsBenchUsage(message: "--seed must be a number") }
            seed = s
        case "--only":
            kinds = try value(arg).split(separator: ",").map { name in
                guard let k = FaultKind(rawValue: String(name)) else {
                    throw FaultsBenchUsage(message: "unknown fault kind \(name); known: \(FaultKind.allCases.map(\.rawValue).joined(separator: ","))")
                }
                return k
            }
        case "--json":
            jsonPath = try value(arg)
        case "-h", "--help":
            print("usage: cloudmin-bench faults [--trials N] [--seed S] [--only \(FaultKind.allCases.map(\.rawValue).joined(separator: ","))] [--json PATH]")
            return
        default:
            throw FaultsBenchUsage(message: "unknown option \(arg); see cloudmin-bench faults --help")
        }
    }
    print("fault injection: \(trials) trials per kind, seed \(seed)")
    let outcomes = try FaultLab.run(kinds: kinds, trials: trials, seed: seed) { line in
        print(line)
        fflush(nil)  // all streams: the line shows at once when piped
    }
    print("")
    print(FaultReport.table(outcomes))
    let details = FaultReport.details(outcomes)
    if !details.isEmpty { print(details) }
    if let jsonPath { try FaultReport.json(outcomes).write(to: URL(fileURLWithPath: jsonPath)) }
    if !FaultReport.allPassed(outcomes) { exit(1) }
}

/// A bad command line for `cloudmin-bench faults`.
struct FaultsBenchUsage: Error, CustomStringConvertible {
    let message: String
    var description: String { "cloudmin-bench faults: \(message)" }
}

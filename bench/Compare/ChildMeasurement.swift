import Foundation

/// What one child process cost, from `wait4`'s rusage: the child and every descendant it
/// waited for (for rsync: its ssh child and, on the replica side, its forked generator).
struct ChildCost: Codable, Sendable {
    var wallSeconds: Double
    var userSeconds: Double
    var systemSeconds: Double
    /// `ru_maxrss`: the largest resident set of any one process among the child and the
    /// descendants it reaped, in KiB (not a sum over processes).
    var maxRSSKiB: Int
    var exitStatus: Int32

    var cpuSeconds: Double { userSeconds + systemSeconds }
}

/// A measured child exited non-zero (its stderr is in `output`).
struct BenchFailure: Error, CustomStringConvertible {
    var what: String
    var detail: String
    var description: String { "compare bench: \(what): \(detail)" }
}

enum ChildMeasurement {
    /// Spawns `argv` (argv[0] an absolute path) with stdin from /dev/null and stdout/stderr
    /// appended to the given files, waits for it with `wait4` and returns its rusage.
    /// - Throws: `BenchFailure` when it cannot be spawned, or exits non-zero and `check` is set.
    static func run(_ argv: [String], stdoutPath: String, stderrPath: String, check: Bool = true) throws -> ChildCost {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let start = ContinuousClock.now
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw BenchFailure(what: argv[0], detail: "cannot spawn: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchFailure(what: argv[0], detail: "wait4: \(String(cString: strerror(errno)))") }
        }
        let elapsed = ContinuousClock.now - start
        let signal = status & 0x7f
        let exit = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        let cost = ChildCost(wallSeconds: elapsed.seconds,
                             userSeconds: usage.ru_utime.seconds, systemSeconds: usage.ru_stime.seconds,
                             maxRSSKiB: Int(usage.ru_maxrss), exitStatus: exit)
        if check && exit != 0 {
            let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw BenchFailure(what: argv.joined(separator: " "), detail: "exited \(exit): \(err.suffix(2000))")
        }
        return cost
    }

    /// Runs a helper tool (not measured) and returns its stdout.
    @discardableResult
    static func tool(_ argv: [String], in directory: String) throws -> String {
        let out = directory + "/tool.out", err = directory + "/tool.err"
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
        _ = try run(argv, stdoutPath: out, stderrPath: err)
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }
}

/// Replica-side cost: the replica's command (`cloudmin-mirror replica serve`, `rsync --server`)
/// runs under GNU `time -a -o FILE`, which appends the wait4 rusage of each invocation; the
/// harness empties the file before a tool's run and reads it after. The sshd session process
/// itself (the SSH crypto on the replica) is not included, for either tool.
struct ReplicaRusageFile {
    let path: String
    /// `time`'s format: peak RSS KiB, user s, system s, wall s.
    static let format = "%M %U %S %e"

    /// The command prefix that records into this file.
    var prefix: [String] { ["/usr/bin/time", "-a", "-o", path, "-f", Self.format] }

    func reset() { _ = FileManager.default.createFile(atPath: path, contents: nil) }

    /// Sums CPU and takes the largest peak RSS over the invocations recorded since `reset`.
    func read() -> (invocations: Int, cpuSeconds: Double, maxRSSKiB: Int) {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var count = 0, cpu = 0.0, rss = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3, let m = Int(f[0]), let u = Double(f[1]), let s = Double(f[2]) else { continue }
            count += 1
            cpu += u + s
            rss = max(rss, m)
        }
        return (count, cpu, rss)
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

extension timeval {
    var seconds: Double { Double(tv_sec) + Double(tv_usec) / 1e6 }
}

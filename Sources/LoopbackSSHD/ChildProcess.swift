import Foundation

/// A child process started with `posix_spawn` and reaped with `waitpid` on its own PID only.
///
/// Used instead of Foundation's `Process`, whose single monitor thread on Linux can block in
/// `wait4` on one long-running child (sshd), stalling every other `waitUntilExit` in parallel tests.
/// `@unchecked Sendable`: `pid` is immutable; the cached exit status is guarded by `lock`.
public final class ChildProcess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    private init(pid: pid_t) { self.pid = pid }

    /// Spawns `executable` with `arguments`; stdin from /dev/null, stdout and stderr appended to
    /// the given files (or /dev/null).
    public static func spawn(_ executable: String, _ arguments: [String], stdoutPath: String? = nil,
                             stderrPath: String? = nil) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return ChildProcess(pid: pid)
    }

    /// Whether the child still runs (reaps it if it ended).
    public var isRunning: Bool { lock.withLock { reap(block: false) == nil } }

    /// Waits for the child to end; returns its exit status (128+signal if killed, -1 if unknown).
    @discardableResult
    public func wait() -> Int32 { lock.withLock { reap(block: true) ?? -1 } }

    private func reap(block: Bool) -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, block ? 0 : WNOHANG)
            if rc == 0 { return nil }
            if rc < 0 && errno == EINTR { continue }
            if rc < 0 { exitStatus = -1; return -1 }  // reaped elsewhere (ECHILD)
            let signal = status & 0x7f
            exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
            return exitStatus
        }
    }
}

/// Runs a tool to completion and returns its stdout; throws `ToolError` (with stderr) on a
/// non-zero exit.
@discardableResult
public func runTool(_ executable: String, _ arguments: [String]) throws -> String {
    let scratch = try ScratchDirectory(prefix: "cm-tool")
    let out = scratch.file("out"), err = scratch.file("err")
    let status = try ChildProcess.spawn(executable, arguments, stdoutPath: out, stderrPath: err).wait()
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    guard status == 0 else {
        throw ToolError(tool: ([executable] + arguments).joined(separator: " "), status: status,
                        output: text + ((try? String(contentsOfFile: err, encoding: .utf8)) ?? ""))
    }
    return text
}

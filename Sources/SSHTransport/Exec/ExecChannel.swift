/// The outcome of a remote command.
public struct ExecResult: Sendable, Equatable {
    /// The exit status (meaningless when `signal` is set).
    public var status: Int32
    /// The signal name (without "SIG") when the command was killed by one.
    public var signal: String?
    /// Everything the command wrote to stdout (empty when a sink consumed it).
    public var stdout: [UInt8]
    /// Everything the command wrote to stderr.
    public var stderr: [UInt8]
}

/// A command running on the remote side over an SSH "session" channel: stdin, stdout, stderr
/// and the exit status. Owns its libssh2 channel (freed in `deinit`), keeps the session alive.
/// Not `Sendable`: use it from the task owning the session.
///
/// `read`/`readStderr` wait for data on one stream; a command that fills the other stream can
/// stall it (both share the channel window). To stream safely use `pump`, which interleaves.
public final class ExecChannel {
    public let session: SSHSession
    /// The command line as sent.
    public let command: String
    let raw: OpaquePointer
    private var eofSent = false
    private var closed = false

    /// Opens a channel and starts `command` (run by the remote user's shell).
    /// - Throws: `SSHError` (`.channelFailed` when the server refuses).
    /// - Wraps: `libssh2_channel_open_ex`, `libssh2_channel_process_startup("exec")`.
    public init(session: SSHSession, command: String) throws {
        self.session = session
        self.command = command
        let op = "starting `\(command)`"
        try session.sendKeepalive()
        guard let raw = try session.performHandle(op, { LibSSH2.channelOpenSession(session.raw, window: 2 << 20) }) else {
            throw session.error(op, code: .channelFailed)
        }
        self.raw = raw
        let rc = try session.perform(op) { LibSSH2.channelExec(raw, command) }
        if rc != 0 { throw session.error(op, code: .channelFailed) }
    }

    deinit {
        if session.isUsable && !closed { _ = try? session.perform("closing channel") { LibSSH2.channelClose(raw) } }
        if session.isUsable { _ = try? session.perform("freeing channel") { LibSSH2.channelFree(raw) } }
        // When the session is gone, libssh2_session_free frees the channel.
    }

    /// Writes all of `bytes` to the command's stdin. - Wraps: `libssh2_channel_write_ex`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let n = try session.perform("writing to `\(command)`") { LibSSH2.channelWrite(raw, rest) }
            if n < 0 { throw session.error("writing to `\(command)`", code: .channelFailed) }
            offset += n
        }
    }

    /// Closes the command's stdin. - Wraps: `libssh2_channel_send_eof`.
    public func sendEOF() throws {
        guard !eofSent else { return }
        let rc = try session.perform("closing stdin of `\(command)`") { LibSSH2.channelSendEOF(raw) }
        if rc < 0 { throw session.error("closing stdin of `\(command)`", code: .channelFailed) }
        eofSent = true
    }

    /// Reads stdout; 0 at end. - Wraps: `libssh2_channel_read_ex(stream 0)`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try read(stream: 0, buffer) }

    /// Reads stderr; 0 at end. - Wraps: `libssh2_channel_read_ex(stream 1)`.
    public func readStderr(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try read(stream: 1, buffer) }

    private func read(stream: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try session.perform("reading from `\(command)`") { LibSSH2.channelRead(raw, stream: stream, buffer) }
        if n < 0 { throw session.error("reading from `\(command)`", code: .channelFailed) }
        return n
    }

    /// Feeds stdin from `stdin` (return 0 at its end) while passing stdout to `stdout` and
    /// collecting stderr, all interleaved so neither side can stall; then waits for the exit.
    /// - Parameters:
    ///   - stdin: fills a buffer with input, returns the count (0 = end); nil sends EOF at once.
    ///   - stdout: receives each stdout chunk; nil collects it into the result.
    /// - Throws: `SSHError` (`.timeout`, `.channelFailed`, `.disconnected`) or what the closures throw.
    /// - Wraps: `libssh2_channel_write_ex`, `libssh2_channel_read_ex`, `libssh2_channel_send_eof`,
    ///   `libssh2_channel_close`, `libssh2_channel_wait_closed`, `libssh2_channel_get_exit_status`.
    public func pump(stdin: ((UnsafeMutableRawBufferPointer) throws -> Int)? = nil,
                     stdout: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> ExecResult {
        let op = "running `\(command)`"
        try session.ensureUsable(op)
        var result = ExecResult(status: -1, signal: nil, stdout: [], stderr: [])
        let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        let outBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        defer { inBuffer.deallocate(); outBuffer.deallocate() }
        var pendingStart = 0, pendingEnd = 0
        var stdinDone = stdin == nil
        var lastProgress = ContinuousClock.now
        while true {
            var progressed = false
            if !eofSent {
                if pendingStart == pendingEnd && !stdinDone, let stdin {
                    pendingStart = 0
                    pendingEnd = try stdin(inBuffer)
                    if pendingEnd == 0 { stdinDone = true }
                }
                if pendingStart < pendingEnd {
                    let n = LibSSH2.channelWrite(raw, UnsafeRawBufferPointer(rebasing: inBuffer[pendingStart..<pendingEnd]))
                    if n > 0 { pendingStart += n; progressed = true }
                    else if n < 0 && n != LibSSH2.eagain {
                        // The command stopped reading (exited or closed stdin): drop the rest, like SIGPIPE.
                        guard LibSSH2.channelEOF(raw) else { throw session.error("writing to `\(command)`", code: .channelFailed) }
                        stdinDone = true; pendingStart = pendingEnd
                    }
                }
                if stdinDone && pendingStart == pendingEnd {
                    let rc = LibSSH2.channelSendEOF(raw)
                    if rc == 0 { eofSent = true; progressed = true }
                    else if rc != LibSSH2.eagain && !LibSSH2.channelEOF(raw) {
                        throw session.error("closing stdin of `\(command)`", code: .channelFailed)
                    } else if rc != LibSSH2.eagain { eofSent = true }
                }
            }
            var streamsAtEnd = 0
            for stream: Int32 in [0, 1] {
                while true {
                    let n = LibSSH2.channelRead(raw, stream: stream, outBuffer)
                    if n > 0 {
                        progressed = true
                        let chunk = UnsafeRawBufferPointer(rebasing: outBuffer[..<n])
                        if stream == 1 { result.stderr.append(contentsOf: chunk) }
                        else if let stdout { try stdout(chunk) } else { result.stdout.append(contentsOf: chunk) }
                    } else if n == 0 {
                        streamsAtEnd += 1; break
                    } else if n == LibSSH2.eagain {
                        break
                    } else {
                        throw session.error("reading from `\(command)`", code: .channelFailed)
                    }
                }
            }
            if streamsAtEnd == 2 && LibSSH2.channelEOF(raw) { break }
            if progressed { lastProgress = ContinuousClock.now } else { try session.waitForSocket(op, since: &lastProgress) }
        }
        let (status, signal) = try waitForExit()
        result.status = status
        result.signal = signal
        return result
    }

    /// Closes the channel and returns the exit status and, if the command died of a signal, its name.
    /// - Wraps: `libssh2_channel_close`, `libssh2_channel_wait_closed`, `libssh2_channel_get_exit_status`,
    ///   `libssh2_channel_get_exit_signal`.
    public func waitForExit() throws -> (status: Int32, signal: String?) {
        let op = "waiting for `\(command)` to exit"
        if !closed {
            var rc = try session.perform(op) { LibSSH2.channelClose(raw) }
            if rc < 0 { throw session.error(op, code: .channelFailed) }
            closed = true
            rc = try session.perform(op) { LibSSH2.channelWaitClosed(raw) }
            if rc < 0 { throw session.error(op, code: .channelFailed) }
        }
        return (LibSSH2.channelExitStatus(raw), LibSSH2.channelExitSignal(raw))
    }
}

extension SSHSession {
    /// Runs `command` remotely with `stdin` as its input and returns its exit status, stdout and stderr.
    /// - Throws: `SSHError` (`.channelFailed`, `.timeout`, `.disconnected`).
    /// - Wraps: see `ExecChannel.pump`.
    public func run(_ command: String, stdin: [UInt8]? = nil) throws -> ExecResult {
        let channel = try ExecChannel(session: self, command: command)
        guard let input = stdin else { return try channel.pump() }
        var offset = 0
        return try channel.pump(stdin: { buffer in
            let n = min(buffer.count, input.count - offset)
            input.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
            offset += n
            return n
        })
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One SSH connection: a TCP socket plus a libssh2 session, verified against a pinned host key
/// and authenticated. Owns both and frees them once (`close()` or `deinit`).
///
/// Not thread-safe, and deliberately not `Sendable`: libssh2 sessions must be used by one thread
/// at a time, so the compiler keeps a session (and its SFTP clients, files and channels) inside
/// the task that created it. Run several sessions for parallelism. All calls block the calling
/// thread on `poll()` (non-blocking libssh2 underneath): no busy loops, every wait is bounded by
/// `readTimeout`, and a cancelled task stops waiting within 250 ms with `.cancelled`.
public final class SSHSession {
    enum State { case open, broken, closed }

    let raw: OpaquePointer
    private let socket: Int32
    /// `user@host:port`, used in errors.
    public let label: String
    /// The options the session was made with.
    public let options: SSHSessionOptions
    /// The server's host key (set after the handshake).
    public private(set) var serverHostKey = ServerHostKey(type: "", base64: "", fingerprint: "")
    private(set) var state = State.open
    private var lastKeepalive = ContinuousClock.now

    /// Whether the session can still be used (not closed, not broken by a timeout or lost link).
    public var isUsable: Bool { state == .open }

    private init(socket: Int32, label: String, options: SSHSessionOptions) throws {
        guard LibSSH2.initializeOnce() == 0 else {
            _ = Glibc.close(socket)
            throw SSHError(.libssh2(-1), host: label, operation: "initialising libssh2")
        }
        guard let raw = LibSSH2.sessionInit() else {
            _ = Glibc.close(socket)
            throw SSHError(.libssh2(-6), host: label, operation: "creating a libssh2 session")
        }
        self.raw = raw
        self.socket = socket
        self.label = label
        self.options = options
    }

    /// Connects, checks the host key, and authenticates.
    ///
    /// The host key is checked right after the key exchange; on a mismatch or an unknown host
    /// (unless `hostKeyPolicy` pins it) the connection is dropped before anything about the user
    /// or key is sent.
    /// - Parameters:
    ///   - host: host name, IPv4 or IPv6 address.
    ///   - port: TCP port, 22 by default.
    ///   - user: remote user name.
    ///   - identity: key file or ssh-agent.
    ///   - hostKeyPolicy: known_hosts file and whether an unknown host may be pinned.
    ///   - options: timeouts and algorithm preferences.
    /// - Throws: `SSHError` with `.resolveFailed`, `.connectionRefused`, `.connectTimeout`,
    ///   `.hostUnreachable`, `.handshakeFailed`, `.hostKeyMismatch`, `.hostKeyUnknown`,
    ///   `.knownHostsUnreadable`, `.unsupportedKeyType`, `.identityUnreadable`, `.authFailed`, `.timeout`.
    /// - Wraps: `libssh2_session_init_ex`, `libssh2_session_handshake`, `libssh2_knownhost_checkp`,
    ///   `libssh2_userauth_publickey_fromfile_ex`, `libssh2_agent_userauth`.
    public static func connect(host: String, port: Int = 22, user: String, identity: SSHIdentity,
                               hostKeyPolicy: HostKeyPolicy, options: SSHSessionOptions = .init()) throws -> SSHSession {
        let label = host.contains(":") && !host.hasPrefix("[") ? "\(user)@[\(host)]:\(port)" : "\(user)@\(host):\(port)"
        if case .keyFile(let path, _) = identity {
            try IdentityFile.check(path: path, label: label)  // before any network traffic
        }
        let fd = try TCPSocket.connect(host: host, port: port, timeout: options.connectTimeout, label: label)
        let session = try SSHSession(socket: fd, label: label, options: options)
        try session.handshake(preferring: LibSSH2.pinnedKeyAlgorithm(
            session: session.raw, file: hostKeyPolicy.knownHostsPath, name: KnownHosts.entryName(host: host, port: port)))
        try session.verifyHostKey(host: host, port: port, policy: hostKeyPolicy)
        try session.authenticate(user: user, identity: identity)
        return session
    }

    // MARK: Handshake and host key

    /// Sets algorithm preferences (the pinned host key type first, when known) and runs the
    /// key exchange.
    private func handshake(preferring pinnedAlgorithm: String?) throws {
        var hostKeyAlgorithms = options.hostKeyAlgorithms
        if let pinnedAlgorithm, hostKeyAlgorithms.contains(pinnedAlgorithm) {
            hostKeyAlgorithms.removeAll { $0 == pinnedAlgorithm }
            hostKeyAlgorithms.insert(pinnedAlgorithm, at: 0)
        }
        let prefs: [(LibSSH2.Method, [String])] = [
            (.hostKey, hostKeyAlgorithms), (.cryptClientToServer, options.ciphers),
            (.cryptServerToClient, options.ciphers), (.macClientToServer, options.macs),
            (.macServerToClient, options.macs),
        ]
        for (method, list) in prefs where !list.isEmpty {
            if LibSSH2.methodPref(raw, method, list.joined(separator: ",")) != 0 {
                throw error("setting algorithm preferences", code: .handshakeFailed)
            }
        }
        LibSSH2.setBlocking(raw, false)
        if options.keepaliveInterval > .zero {
            LibSSH2.keepaliveConfig(raw, interval: UInt32(max(1, options.keepaliveInterval.components.seconds)))
        }
        let rc = try perform("SSH handshake") { LibSSH2.handshake(raw, socket: socket) }
        if rc != 0 { throw error("SSH handshake", code: .handshakeFailed) }
    }

    private func verifyHostKey(host: String, port: Int, policy: HostKeyPolicy) throws {
        let op = "checking the host key"
        guard let (blob, type) = LibSSH2.hostKey(raw), let typeName = LibSSH2.hostKeyTypeName(type) else {
            throw error(op, code: .handshakeFailed)
        }
        let fingerprint = LibSSH2.hostKeySHA256(raw).map(HostKeyFingerprint.format(sha256Digest:))
            ?? HostKeyFingerprint.sha256(ofKeyBlob: blob)
        serverHostKey = ServerHostKey(type: typeName, base64: Base64.encode(blob), fingerprint: fingerprint)
        let path = policy.knownHostsPath
        let name = KnownHosts.entryName(host: host, port: port)
        func refuse(_ code: SSHError.Code, detail: String, expected: String? = nil) -> SSHError {
            markBroken()  // drop the connection: nothing more is sent to this server
            var e = SSHError(code, host: label, operation: op, detail: detail)
            e.serverFingerprint = fingerprint
            e.expectedFingerprint = expected
            return e
        }
        switch LibSSH2.knownHostCheck(session: raw, file: path, name: name, key: blob, keyType: type) {
        case .match:
            return
        case .mismatch(let stored):
            let pinned = Base64.decode(stored).map(HostKeyFingerprint.sha256(ofKeyBlob:)) ?? "?"
            throw refuse(.hostKeyMismatch, detail: "\(typeName) key of \(name) differs from the one pinned in \(path)",
                         expected: pinned)
        case .failure(let message):
            throw refuse(.knownHostsUnreadable, detail: "\(path): \(message)")
        case .notFound:
            guard case .pinIfUnknown(_, let expected) = policy else {
                throw refuse(.hostKeyUnknown, detail: "no \(typeName) key for \(name) in \(path)")
            }
            if let expected, HostKeyFingerprint.normalize(expected) != fingerprint {
                throw refuse(.hostKeyMismatch, detail: "the server's key is not the one you expected",
                             expected: HostKeyFingerprint.normalize(expected))
            }
            do {
                try KnownHosts.append(line: serverHostKey.knownHostsLine(host: host, port: port), to: path)
            } catch {
                throw refuse(.knownHostsUnreadable, detail: "recording the key in \(path): \(error)")
            }
        }
    }

    // MARK: Authentication

    private func authenticate(user: String, identity: SSHIdentity) throws {
        switch identity {
        case .keyFile(let path, let passphrase):
            let op = "authenticating as \(user) with \(path)"
            let rc = try perform(op) {
                LibSSH2.userauthPublicKeyFromFile(raw, user: user, publicKey: nil, privateKey: path, passphrase: passphrase)
            }
            if rc == 0 { return }
            let errno = LibSSH2.lastErrno(raw)
            let code: SSHError.Code = errno == LibSSH2.errorFile ? .identityUnreadable : .authFailed
            throw error(op, code: code, hint: code == .identityUnreadable
                ? "libssh2 could not load the key: check the file, its format (OpenSSH ed25519/ECDSA) and the passphrase" : nil)
        case .agent:
            let op = "authenticating as \(user) with ssh-agent"
            LibSSH2.setBlocking(raw, true)
            LibSSH2.setTimeout(raw, milliseconds: TCPSocket.milliseconds(options.readTimeout))
            let result = LibSSH2.agentAuthenticate(raw, user: user)
            LibSSH2.setBlocking(raw, false)
            if result.rc == 0 { return }
            if !result.agentReachable {
                throw error(op, code: .authFailed, hint: "no identity file given and no ssh-agent reachable (SSH_AUTH_SOCK); pass a key file")
            }
            throw error(op, code: .authFailed,
                        hint: "the agent offered \(result.identities) key(s) and none was accepted; add one to the remote authorized_keys")
        }
    }

    // MARK: Waiting (every libssh2 call that may block goes through here)

    /// Calls `call` until it returns something other than EAGAIN, waiting on the socket in
    /// between. Throws `.timeout` when the socket stays idle for `readTimeout`, `.cancelled` when
    /// the task is cancelled, `.disconnected` when the session is no longer usable.
    func perform(_ operation: @autoclosure () -> String, _ call: () -> Int) throws -> Int {
        try ensureUsable(operation())
        var lastProgress = ContinuousClock.now
        while true {
            let rc = call()
            if rc != LibSSH2.eagain { return rc }
            try waitForSocket(operation(), since: &lastProgress)
        }
    }

    /// As `perform` for calls that return a handle; throws the session's error when it is nil.
    func performHandle(_ operation: @autoclosure () -> String, _ call: () -> OpaquePointer?) throws -> OpaquePointer? {
        try ensureUsable(operation())
        var lastProgress = ContinuousClock.now
        while true {
            if let handle = call() { return handle }
            if LibSSH2.lastErrno(raw) != Int32(LibSSH2.eagain) { return nil }
            try waitForSocket(operation(), since: &lastProgress)
        }
    }

    func ensureUsable(_ operation: @autoclosure () -> String) throws {
        guard state == .open else {
            throw SSHError(.disconnected, host: label, operation: operation(),
                           detail: state == .closed ? "session closed" : "session unusable after an earlier failure")
        }
    }

    func waitForSocket(_ operation: String, since lastProgress: inout ContinuousClock.Instant) throws {
        if Task.isCancelled {
            markBroken()
            throw SSHError(.cancelled, host: label, operation: operation)
        }
        let idle = ContinuousClock.now - lastProgress
        let remaining = options.readTimeout - idle
        if remaining <= .zero {
            markBroken()
            throw SSHError(.timeout, host: label, operation: operation, detail: "no data for \(options.readTimeout)")
        }
        let directions = LibSSH2.blockDirections(raw)
        var events: Int16 = 0
        if directions.inbound { events |= Int16(POLLIN) }
        if directions.outbound { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        let slice = min(remaining, .milliseconds(250))
        if TCPSocket.wait(fd: socket, events: events, milliseconds: max(1, TCPSocket.milliseconds(slice))) > 0 {
            lastProgress = ContinuousClock.now
        }
    }

    /// Builds an error from libssh2's last error, classifying it; marks the session broken when
    /// the link is gone.
    func error(_ operation: String, code: SSHError.Code? = nil, hint: String? = nil) -> SSHError {
        let (errno, message) = LibSSH2.lastError(raw)
        let resolved: SSHError.Code
        if let code {
            resolved = code
        } else if LibSSH2.disconnectErrors.contains(errno) {
            resolved = .disconnected
        } else if LibSSH2.handshakeErrors.contains(errno) {
            resolved = .handshakeFailed
        } else if LibSSH2.channelErrors.contains(errno) {
            resolved = .channelFailed
        } else if errno == LibSSH2.errorTimeout || errno == LibSSH2.errorSocketTimeout {
            resolved = .timeout
        } else if errno == LibSSH2.errorAuthFailed || errno == LibSSH2.errorPublicKeyUnverified {
            resolved = .authFailed
        } else {
            resolved = .libssh2(errno)
        }
        if resolved == .disconnected || resolved == .timeout || resolved == .handshakeFailed { markBroken() }
        return SSHError(resolved, host: label, operation: operation, detail: message.isEmpty ? nil : message, hint: hint)
    }

    /// Marks the session unusable and shuts the socket down so nothing more goes out.
    func markBroken() {
        guard state == .open else { return }
        state = .broken
        _ = shutdown(socket, Int32(SHUT_RDWR))
    }

    // MARK: Public utilities

    /// The algorithms negotiated in the handshake (cipher, MAC, ...).
    /// - Wraps: `libssh2_session_methods`.
    public var negotiatedAlgorithms: SSHNegotiatedAlgorithms {
        SSHNegotiatedAlgorithms(
            kex: LibSSH2.methods(raw, .kex) ?? "", hostKey: LibSSH2.methods(raw, .hostKey) ?? "",
            cipherClientToServer: LibSSH2.methods(raw, .cryptClientToServer) ?? "",
            cipherServerToClient: LibSSH2.methods(raw, .cryptServerToClient) ?? "",
            macClientToServer: LibSSH2.methods(raw, .macClientToServer) ?? "",
            macServerToClient: LibSSH2.methods(raw, .macServerToClient) ?? "")
    }

    /// Sends an SSH keepalive if `keepaliveInterval` has passed since the last one. Call it on
    /// an idle session; path operations of `SFTPClient` call it themselves.
    /// - Throws: `.disconnected` when the session is unusable or the send fails.
    /// - Wraps: `libssh2_keepalive_send`.
    public func sendKeepalive() throws {
        guard options.keepaliveInterval > .zero,
              ContinuousClock.now - lastKeepalive >= options.keepaliveInterval else { return }
        try ensureUsable("sending a keepalive")
        lastKeepalive = ContinuousClock.now
        let rc = LibSSH2.keepaliveSend(raw)
        if rc != 0 && rc != LibSSH2.eagain { throw error("sending a keepalive", code: .disconnected) }
    }

    /// Says goodbye to the server and closes the connection. Safe to call twice.
    /// Handles (SFTP files, channels) still open become unusable.
    /// - Throws: `.disconnected`/`.timeout` if the goodbye could not be sent (the socket is closed anyway).
    /// - Wraps: `libssh2_session_disconnect_ex`.
    public func close() throws {
        guard state != .closed else { return }
        defer {
            if state == .open { _ = shutdown(socket, Int32(SHUT_RDWR)) }
            state = .closed
        }
        if state == .open {
            let rc = try perform("disconnecting") { LibSSH2.disconnect(raw, reason: "closing") }
            if rc != 0 { throw error("disconnecting") }
        }
    }

    deinit {
        if state == .open { _ = LibSSH2.disconnect(raw, reason: "closing") }
        _ = shutdown(socket, Int32(SHUT_RDWR))
        // Blocking with a short timeout: with the socket shut down every send fails at once.
        LibSSH2.setBlocking(raw, true)
        LibSSH2.setTimeout(raw, milliseconds: 1000)
        LibSSH2.sessionFree(raw)
        _ = Glibc.close(socket)
    }
}

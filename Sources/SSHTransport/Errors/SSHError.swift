/// A failure in the SSH transport: what went wrong (`code`), where (`host`, `operation`),
/// libssh2's own words (`detail`) and what to do about it (`hint`).
///
/// Tests and callers branch on `code`; `description` is one line for a person.
public struct SSHError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable, Equatable, CustomStringConvertible {
        /// The host name did not resolve.
        case resolveFailed
        /// Nothing listens on the port (TCP RST).
        case connectionRefused
        /// The TCP connect did not finish within the connect timeout.
        case connectTimeout
        /// No route to the host or network.
        case hostUnreachable
        /// Any other socket-level failure (errno in `detail`).
        case socketFailed
        /// The SSH handshake (banner, key exchange) failed.
        case handshakeFailed
        /// The server's host key differs from the pinned one.
        case hostKeyMismatch
        /// The server's host key is not in known_hosts and pinning was not asked for.
        case hostKeyUnknown
        /// The known_hosts file could not be read, parsed or written.
        case knownHostsUnreadable
        /// The server refused every key offered.
        case authFailed
        /// The identity file holds a key type this libssh2 cannot sign with (RSA).
        case unsupportedKeyType
        /// The identity file is missing or unreadable.
        case identityUnreadable
        /// No data moved within the read timeout.
        case timeout
        /// The calling task was cancelled.
        case cancelled
        /// A channel could not be opened or a request on it failed.
        case channelFailed
        /// An SFTP request failed with this SFTP status code (SSH_FX_*), not mapped below.
        case sftp(UInt)
        /// The remote file system is full (SSH_FX_NO_SPACE_ON_FILESYSTEM / QUOTA_EXCEEDED).
        case remoteDiskFull
        /// The remote side refused access (SSH_FX_PERMISSION_DENIED / WRITE_PROTECT).
        case permissionDenied
        /// The remote path does not exist (SSH_FX_NO_SUCH_FILE / NO_SUCH_PATH).
        case noSuchFile
        /// The remote path already exists (SSH_FX_FILE_ALREADY_EXISTS).
        case alreadyExists
        /// The session was closed, lost, or left unusable by an earlier timeout.
        case disconnected
        /// A local file could not be read or written during a transfer.
        case localIO
        /// Any other libssh2 error (its error number).
        case libssh2(Int32)

        public var description: String {
            switch self {
            case .resolveFailed: "resolve failed"
            case .connectionRefused: "connection refused"
            case .connectTimeout: "connect timed out"
            case .hostUnreachable: "host unreachable"
            case .socketFailed: "socket error"
            case .handshakeFailed: "SSH handshake failed"
            case .hostKeyMismatch: "HOST KEY MISMATCH"
            case .hostKeyUnknown: "unknown host key"
            case .knownHostsUnreadable: "known_hosts unusable"
            case .authFailed: "authentication refused"
            case .unsupportedKeyType: "unsupported key type"
            case .identityUnreadable: "identity file unreadable"
            case .timeout: "timed out"
            case .cancelled: "cancelled"
            case .channelFailed: "channel failed"
            case .sftp(let status): "SFTP status \(status)"
            case .remoteDiskFull: "remote disk full"
            case .permissionDenied: "permission denied"
            case .noSuchFile: "no such file"
            case .alreadyExists: "already exists"
            case .disconnected: "disconnected"
            case .localIO: "local I/O error"
            case .libssh2(let rc): "libssh2 error \(rc)"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The host (and port) the session talks to, as given to `SSHSession.connect`.
    public var host: String
    /// What was being done, e.g. "opening /srv/replica/x".
    public var operation: String
    /// libssh2's (or the OS's) own message, when there is one.
    public var detail: String?
    /// What to do next, when there is something useful to say.
    public var hint: String?
    /// For host key failures: the server's key fingerprint (`SHA256:...`), to show the user.
    public var serverFingerprint: String?
    /// For `.hostKeyMismatch`: the fingerprint that was pinned or expected.
    public var expectedFingerprint: String?

    public init(_ code: Code, host: String, operation: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.host = host
        self.operation = operation
        self.detail = detail
        self.hint = hint ?? SSHError.defaultHint(for: code)
    }

    public var description: String {
        var line = "ssh \(host): \(operation): \(code)"
        if let detail, !detail.isEmpty { line += " (\(detail))" }
        if let serverFingerprint { line += "; server key \(serverFingerprint)" }
        if let expectedFingerprint { line += ", expected \(expectedFingerprint)" }
        if let hint { line += "; \(hint)" }
        return line
    }

    static func defaultHint(for code: Code) -> String? {
        switch code {
        case .resolveFailed: "check the host name and DNS"
        case .connectionRefused: "check that sshd runs on that host and port, and the firewall"
        case .connectTimeout, .hostUnreachable: "check the address, the network path and the firewall"
        case .handshakeFailed: "check that the port speaks SSH and shares a cipher with libssh2 (aes-ctr)"
        case .hostKeyMismatch:
            "the host key changed: if the replica was reinstalled, verify its new fingerprint out of band and re-pin it; otherwise suspect an attack"
        case .hostKeyUnknown: "add the replica first so its host key is pinned (compare the fingerprint with `ssh-keygen -lf` on the replica)"
        case .authFailed: "add this key's .pub line to the remote user's authorized_keys"
        case .unsupportedKeyType: "libssh2 1.10 cannot sign with rsa-sha2; create an ed25519 key: ssh-keygen -t ed25519"
        case .identityUnreadable: "check the identity file path and permissions"
        case .timeout: "the link or the remote host stopped answering; check both, then retry"
        case .remoteDiskFull: "free space on the replica or grow its file system, then retry"
        case .permissionDenied: "check ownership and mode of the remote path and the remote user"
        case .noSuchFile: "check the remote path"
        case .disconnected: "reconnect and retry"
        default: nil
        }
    }
}

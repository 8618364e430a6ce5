/// Timeouts and algorithm preferences of a session.
public struct SSHSessionOptions: Sendable {
    /// Longest wait for the TCP connection.
    public var connectTimeout: Duration = .seconds(10)
    /// Longest time any operation may wait without the socket becoming ready; past it the
    /// operation fails with `.timeout` and the session is unusable (reconnect).
    public var readTimeout: Duration = .seconds(30)
    /// Interval of SSH keepalives sent by `sendKeepalive()` and before path operations;
    /// `.zero` turns them off.
    public var keepaliveInterval: Duration = .seconds(15)
    /// Client-to-server and server-to-client ciphers, in preference order. libssh2 1.10 has no
    /// aes-gcm or chacha20; aes128-ctr is the fastest it offers with AES-NI.
    public var ciphers: [String] = ["aes128-ctr", "aes256-ctr", "aes192-ctr"]
    /// MACs in preference order.
    public var macs: [String] = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]
    /// Host key algorithms in preference order (ed25519 first, then ECDSA).
    public var hostKeyAlgorithms: [String] = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
    ]

    public init() {}
}

/// How the session proves who it is.
public enum SSHIdentity: Sendable {
    /// A private key file in OpenSSH format (ed25519 or ECDSA), optionally passphrase-protected.
    case keyFile(path: String, passphrase: String? = nil)
    /// Every identity of the ssh-agent at `SSH_AUTH_SOCK`, in turn.
    case agent
}

/// The algorithms a session negotiated.
public struct SSHNegotiatedAlgorithms: Sendable, Equatable {
    public var kex: String
    public var hostKey: String
    public var cipherClientToServer: String
    public var cipherServerToClient: String
    public var macClientToServer: String
    public var macServerToClient: String
}

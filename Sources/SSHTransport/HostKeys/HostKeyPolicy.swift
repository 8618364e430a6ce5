import Crypto
import Foundation

/// What to do with the server's host key, checked right after the handshake and before any
/// authentication data is sent.
public enum HostKeyPolicy: Sendable {
    /// The key must already be in this OpenSSH known_hosts file (plain or hashed entries,
    /// `[host]:port` for ports other than 22). Anything else is refused.
    case requireKnown(knownHostsPath: String)
    /// As `requireKnown`, but a host that is not in the file at all is recorded (a line appended
    /// atomically) and accepted, provided its fingerprint equals `expectedFingerprint` when one is
    /// given. A host known with a different key is still refused. Use this once, when a replica is
    /// added, with the fingerprint the user saw or gave.
    case pinIfUnknown(knownHostsPath: String, expectedFingerprint: String?)

    var knownHostsPath: String {
        switch self {
        case .requireKnown(let path), .pinIfUnknown(let path, _): path
        }
    }
}

/// The server's host key, for display and pinning.
public struct ServerHostKey: Sendable, Equatable {
    /// OpenSSH key type name, e.g. `ssh-ed25519` or `ecdsa-sha2-nistp256`.
    public let type: String
    /// The key blob, base64, as in a known_hosts line.
    public let base64: String
    /// OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of SHA-256(blob).
    public let fingerprint: String

    /// The known_hosts line for this key at `host`/`port` (`[host]:port` unless port 22).
    public func knownHostsLine(host: String, port: Int) -> String {
        "\(KnownHosts.entryName(host: host, port: port)) \(type) \(base64)"
    }
}

/// Fingerprint formatting.
public enum HostKeyFingerprint {
    /// `SHA256:` + unpadded base64 of SHA-256 over a raw key blob, as `ssh-keygen -l` prints it.
    public static func sha256(ofKeyBlob blob: [UInt8]) -> String { format(sha256Digest: Array(Crypto.SHA256.hash(data: blob))) }

    static func format(sha256Digest: [UInt8]) -> String {
        var b64 = Base64.encode(sha256Digest)
        while b64.hasSuffix("=") { b64.removeLast() }
        return "SHA256:" + b64
    }

    /// Normalises a user-given fingerprint: adds a missing `SHA256:` prefix, drops padding.
    static func normalize(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if !t.hasPrefix("SHA256:") { t = "SHA256:" + t }
        while t.hasSuffix("=") { t.removeLast() }
        return t
    }
}

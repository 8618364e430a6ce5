/// A malformed, unexpected or refused message in the replica protocol.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The stream ended inside a frame or a field.
        case truncated
        /// A length or count beyond the protocol's bounds.
        case tooLarge
        /// A frame type or field value this side does not know.
        case badValue
        /// A well-formed message that makes no sense now (a reply where a request was due...).
        case unexpected
        /// The other side runs a protocol version we do not speak.
        case versionMismatch
        /// The other side answered with an error (its code and message in `detail`).
        case remote(String)
        /// The peer closed the stream.
        case closed
    }

    public var code: Code
    /// Which peer or stream, for messages (`replica dr1`, `master`).
    public var peer: String
    public var detail: String

    public init(_ code: Code, peer: String = "peer", detail: String) {
        self.code = code
        self.peer = peer
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .remote(let c): return "\(peer) refused: \(detail) [\(c)]"
        case .versionMismatch: return "\(peer): protocol version mismatch (\(detail)); install the same cloudmin-mirror version on master and replicas"
        case .closed: return "\(peer) closed the connection (\(detail)); check the replica's sshd log and that cloudmin-mirror is installed there"
        default: return "\(peer): broken protocol message (\(detail)); the other side may run another version or be damaged"
        }
    }
}

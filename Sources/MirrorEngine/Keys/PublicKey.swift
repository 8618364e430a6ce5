import Crypto
import Foundation

/// An OpenSSH public key line (`ssh-ed25519 AAAA... comment`), as in `id_ed25519.pub` and
/// authorized_keys.
public struct PublicKey: Sendable, Hashable {
    /// Why a key line was refused.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Code: Sendable, Hashable { case malformed, unsupportedType, unreadable }
        public var code: Code
        public var source: String
        public var detail: String
        public var description: String {
            switch code {
            case .malformed: return "\(source): not an OpenSSH public key line (\(detail)); give the .pub file made by ssh-keygen"
            case .unsupportedType: return "\(source): key type \(detail) is not supported for replication; make one with `ssh-keygen -t ed25519`"
            case .unreadable: return "\(source): cannot read the key (\(detail))"
            }
        }
    }

    /// Key types the master can sign with through libssh2 1.10 (no rsa-sha2 there).
    public static let supportedTypes: Set<String> = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    ]

    public let type: String
    /// The key blob, base64 as written.
    public let base64: String
    public let comment: String

    /// Parses one key line.
    /// - Parameters:
    ///   - line: `TYPE BASE64 [COMMENT]`.
    ///   - source: how errors name where the line came from.
    /// - Throws: `PublicKey.Invalid`.
    public init(line: String, source: String) throws(Invalid) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count >= 2 else { throw Invalid(code: .malformed, source: source, detail: "expected TYPE BASE64") }
        guard Self.supportedTypes.contains(fields[0]) else {
            throw Invalid(code: fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa") ? .unsupportedType : .malformed,
                          source: source, detail: "`\(fields[0])`")
        }
        guard let blob = Data(base64Encoded: fields[1]), blob.count >= 4 else {
            throw Invalid(code: .malformed, source: source, detail: "bad base64")
        }
        // The blob starts with the key type as an SSH string: it must agree with the line.
        let n = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard n > 0, blob.count >= 4 + n, String(decoding: blob[4..<(4 + n)], as: UTF8.self) == fields[0] else {
            throw Invalid(code: .malformed, source: source, detail: "the key blob is not a \(fields[0]) key")
        }
        type = fields[0]
        base64 = fields[1]
        comment = fields.dropFirst(2).joined(separator: " ")
    }

    /// Reads the first key line of a `.pub` file.
    public init(file path: String) throws(Invalid) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Invalid(code: .unreadable, source: path, detail: "\(error.localizedDescription)")
        }
        guard let line = text.split(separator: "\n").first(where: { !$0.hasPrefix("#") && !$0.isEmpty }) else {
            throw Invalid(code: .malformed, source: path, detail: "empty file")
        }
        try self.init(line: String(line), source: path)
    }

    /// OpenSSH's fingerprint, `SHA256:` and the unpadded base64 of the blob's SHA-256.
    public var fingerprint: String {
        let digest = SHA256.hash(data: Data(base64Encoded: base64) ?? Data())
        var b64 = Data(digest).base64EncodedString()
        while b64.hasSuffix("=") { b64.removeLast() }
        return "SHA256:" + b64
    }

    /// `TYPE BASE64 COMMENT` as in a .pub file.
    public var line: String { comment.isEmpty ? "\(type) \(base64)" : "\(type) \(base64) \(comment)" }
}

import Foundation

/// Reads the key type of a private key file before it is offered, so an RSA key (which libssh2
/// 1.10 can only sign with the retired ssh-rsa/SHA-1 algorithm) gets a clear error up front.
enum IdentityFile {
    /// Key types libssh2 1.10 cannot use against a current OpenSSH server.
    static let unsupported: Set<String> = ["ssh-rsa", "ssh-dss"]

    static func check(path: String, label: String) throws {
        let op = "reading identity \(path)"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SSHError(.identityUnreadable, host: label, operation: op, detail: "cannot read the file")
        }
        if text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN DSA PRIVATE KEY") {
            throw unsupportedError(type: text.contains("RSA") ? "ssh-rsa" : "ssh-dss", label: label, op: op)
        }
        guard let type = openSSHKeyType(text) else { return }  // PEM/PKCS#8: let libssh2 decide
        if unsupported.contains(type) { throw unsupportedError(type: type, label: label, op: op) }
    }

    private static func unsupportedError(type: String, label: String, op: String) -> SSHError {
        SSHError(.unsupportedKeyType, host: label, operation: op, detail: "\(type) key")
    }

    /// The key type string inside an `-----BEGIN OPENSSH PRIVATE KEY-----` file: after the magic
    /// "openssh-key-v1\0", three strings (cipher, kdf, kdf options), a key count, then the public
    /// key blob whose first string is the type.
    static func openSSHKeyType(_ text: String) -> String? {
        let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
        guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound else { return nil }
        let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        guard let bytes = Base64.decode(String(body)) else { return nil }
        let magic = Array("openssh-key-v1".utf8) + [0]
        guard bytes.starts(with: magic) else { return nil }
        var reader = SSHWireReader(bytes: bytes, offset: magic.count)
        guard reader.string() != nil, reader.string() != nil, reader.string() != nil,
              reader.uint32() != nil, let pub = reader.string() else { return nil }
        var inner = SSHWireReader(bytes: pub, offset: 0)
        return inner.string().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Reads SSH wire-format integers and length-prefixed strings.
struct SSHWireReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() -> [UInt8]? {
        guard let n = uint32(), offset + Int(n) <= bytes.count else { return nil }
        defer { offset += Int(n) }
        return Array(bytes[offset..<offset + Int(n)])
    }
}

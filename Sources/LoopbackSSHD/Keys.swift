import Foundation

/// A temporary directory removed when the value is released.
public final class ScratchDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates `/tmp/<prefix>-XXXXXX`.
    public init(prefix: String = "cm-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed: errno \(errno)"])
        }
        path = URL(fileURLWithPath: String(cString: p)).standardizedFileURL.path
    }

    /// `path` + "/" + `name`.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// SSH key types the tests generate.
public enum TestKeyType: String, Sendable, CaseIterable {
    case ed25519, ecdsa, rsa
}

/// A generated key pair.
public struct TestKey: Sendable {
    /// Private key file (OpenSSH format, no passphrase).
    public let privateKeyPath: String
    /// The `.pub` line (`ssh-ed25519 AAAA... comment`), for authorized_keys.
    public let publicKeyLine: String
    /// The key's fingerprint as `ssh-keygen -l -E sha256` prints it (`SHA256:...`).
    public let fingerprint: String
}

/// Generates keys with the real `ssh-keygen`.
public enum TestKeys {
    /// Runs `ssh-keygen -t TYPE -N "" -f DIR/NAME` and reads back the public line and fingerprint.
    public static func generate(_ type: TestKeyType, in directory: String, name: String? = nil) throws -> TestKey {
        let path = directory + "/" + (name ?? "id_\(type.rawValue)")
        var args = ["-q", "-t", type.rawValue, "-N", "", "-C", "cm-test-\(type.rawValue)", "-f", path]
        if type == .rsa { args += ["-b", "2048"] }
        _ = try runTool("/usr/bin/ssh-keygen", args)
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return TestKey(privateKeyPath: path, publicKeyLine: line, fingerprint: try fingerprint(ofPublicKeyFile: path + ".pub"))
    }

    /// `ssh-keygen -l -E sha256 -f FILE`, second field.
    public static func fingerprint(ofPublicKeyFile file: String) throws -> String {
        let out = try runTool("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", file])
        let fields = out.split(separator: " ")
        guard fields.count >= 2 else { throw ToolError(tool: "ssh-keygen -l", status: 0, output: out) }
        return String(fields[1])
    }
}

/// A helper tool exited non-zero.
public struct ToolError: Error, CustomStringConvertible {
    public let tool: String
    public let status: Int32
    public let output: String
    public init(tool: String, status: Int32, output: String) {
        self.tool = tool
        self.status = status
        self.output = output
    }
    public var description: String { "\(tool) exited \(status): \(output)" }
}

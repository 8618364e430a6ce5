import Foundation

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func decode(_ s: String) -> [UInt8]? { Data(base64Encoded: s).map { Array($0) } }
}

/// Checking a server key against an OpenSSH known_hosts file, and recording a new one.
enum KnownHosts {
    /// The host field OpenSSH writes: `host` for port 22, else `[host]:port`; names lower-cased.
    static func entryName(host: String, port: Int) -> String {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        return port == 22 ? h : "[\(h)]:\(port)"
    }

    /// Appends `line` to the file atomically (write a temporary copy beside it, then rename),
    /// creating the file (0600) and its folder (0700) when missing.
    static func append(line: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o700])
        var content = (try? Data(contentsOf: url)) ?? Data()
        if let last = content.last, last != UInt8(ascii: "\n") { content.append(UInt8(ascii: "\n")) }
        content.append(contentsOf: Array((line + "\n").utf8))
        let mode = (try? fm.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o600
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        guard fm.createFile(atPath: temp.path, contents: content, attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temp.path])
        }
        let fd = open(temp.path, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); _ = close(fd) }
        guard rename(temp.path, path) == 0 else {
            let err = errno
            _ = unlink(temp.path)
            throw POSIXError(POSIXErrorCode(rawValue: err) ?? .EIO)
        }
    }
}

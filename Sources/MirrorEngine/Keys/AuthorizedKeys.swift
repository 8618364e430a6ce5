#if canImport(Glibc)
import TreeDiff
import Glibc
#endif
import Foundation
import SystemPackage

/// Why setting up or using replica access was refused.
public struct AccessError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A path that cannot be written into an authorized_keys forced command.
        case unsafePath
        /// The authorized_keys file or its folder cannot be read or written (or is a symlink).
        case authorizedKeys
        /// This host is a master: it cannot become a replica until replication is turned off.
        case isMaster
        /// This host already replicates another master.
        case otherMaster
        /// The command needs the replica role.
        case notReplica
        /// The connecting key is not the master this replica accepts.
        case wrongMaster
        /// The replication key asked for something other than replication.
        case refusedCommand
        /// The SFTP server cannot be started.
        case sftpServer
        /// This binary's own path cannot be found.
        case executable
        /// This host is a read-only replica: commands that change the mirrored trees refuse.
        case replicaReadOnly
    }

    public var code: Code
    /// What was being used: a file, a fingerprint, a command.
    public var subject: String
    public var detail: String

    public init(_ code: Code, subject: String, detail: String = "") {
        self.code = code
        self.subject = subject
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .unsafePath:
            return "\(subject): cannot be used in an authorized_keys forced command (\(detail)); use a path without quotes or control characters"
        case .authorizedKeys:
            return "\(subject): \(detail)"
        case .isMaster:
            return "this host is a replication master (\(subject)); turn replication off first (`cloudmin-mirror master disable`) before making it a replica"
        case .otherMaster:
            return "this host is already a replica of master \(subject); use `replica set-master` to change masters, or `--force` to start over"
        case .notReplica:
            return "this host is not a replica (role \(subject)); run `cloudmin-mirror replica init --master-key FILE.pub` first"
        case .wrongMaster:
            return "this replica accepts master \(detail) only; refused key \(subject) (run `replica set-master` on the replica if the master changed)"
        case .refusedCommand:
            return "this key may only be used for cloudmin-mirror replication (from master \(detail)); refused: \(subject.isEmpty ? "interactive shell" : subject)"
        case .sftpServer:
            return "\(subject): \(detail); install openssh-sftp-server"
        case .executable:
            return "cannot find this program's path (\(detail)); pass --serve-command PATH"
        case .replicaReadOnly:
            return "this host is a read-only replica of master \(subject); refused: \(detail) (promote it to master first if the master is gone)"
        }
    }
}

/// An OpenSSH `authorized_keys` file holding the master's replication entry.
///
/// Only the one entry marked with `marker` (the key's comment) is ever written; every other line
/// is kept byte for byte. The entry is `restrict,command="..." TYPE BASE64 cloudmin-mirror-master`:
/// `restrict` turns off port, agent and X11 forwarding, PTYs and `~/.ssh/rc`; the forced command
/// runs `cloudmin-mirror replica serve` whatever the client asked for.
public struct AuthorizedKeys: Sendable {
    /// The comment that marks our entry.
    public static let marker = "cloudmin-mirror-master"

    /// The file on this machine.
    public let path: String

    /// - Parameter path: the authorized_keys file, a host path (not remapped).
    public init(path: String) {
        self.path = path
    }

    /// root's `~/.ssh/authorized_keys` under the global `--root`.
    public static func rootDefault(paths: HostPaths) -> AuthorizedKeys {
        AuthorizedKeys(path: paths.host("/root/.ssh/authorized_keys"))
    }

    /// The forced command for the master's key, each word quoted for `/bin/sh` (sshd runs the
    /// command through root's shell).
    /// - Parameters:
    ///   - executable: absolute path of the cloudmin-mirror binary.
    ///   - root: the global `--root`.
    ///   - config: the global `--config`, if given.
    ///   - fingerprint: the master key's fingerprint (`SHA256:...`).
    /// - Throws: `AccessError.unsafePath` for a word holding `"`, a newline or another control
    ///   character (sshd's option quoting cannot carry them).
    public static func forcedCommand(executable: String, root: String, config: String?, fingerprint: String) throws(AccessError) -> String {
        var words = [executable, "replica", "serve", "--root", root]
        if let config { words += ["--config", config] }
        words += ["--master-fingerprint", fingerprint]
        for word in words {
            if word.contains("\"") { throw AccessError(.unsafePath, subject: word, detail: "contains a double quote") }
            if word.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw AccessError(.unsafePath, subject: word, detail: "contains a control character")
            }
        }
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// The full entry line for `key` with `command` forced.
    public static func entry(for key: PublicKey, command: String) -> String {
        "restrict,command=\"\(command)\" \(key.type) \(key.base64) \(marker)"
    }

    /// Whether a line is our entry: not a comment, and its last field is the marker.
    public static func isOurEntry(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.hasPrefix("#") else { return false }
        return trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).last == Substring(marker)
    }

    /// Our entries currently in the file (normally zero or one); empty when the file is missing.
    /// - Throws: `AccessError.authorizedKeys` when the file cannot be read.
    public func entries() throws(AccessError) -> [String] {
        try lines().filter(Self.isOurEntry).map(String.init)
    }

    /// Writes `entry` as the only marked entry: it takes the place of the first old one (others
    /// are dropped) or is appended. Creates the folder (0700) and the file (0600) when missing;
    /// replaces the file atomically.
    /// - Returns: whether an old entry was replaced.
    /// - Throws: `AccessError.authorizedKeys` when the file or its folder is a symlink, or a
    ///   read or write fails.
    @discardableResult
    public func install(entry: String) throws(AccessError) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        try ensureDirectory(directory)
        var out: [Substring] = []
        var replaced = false
        for line in try lines() {
            if Self.isOurEntry(line) {
                if !replaced { out.append(Substring(entry)) }
                replaced = true
            } else {
                out.append(line)
            }
        }
        if !replaced { out.append(Substring(entry)) }
        let text = out.joined(separator: "\n") + "\n"
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: [.ownerReadWrite])
        } catch {
            throw AccessError(.authorizedKeys, subject: path, detail: "cannot write (\(error))")
        }
        return replaced
    }

    /// The file's lines without their newlines; none when it does not exist.
    private func lines() throws(AccessError) -> [Substring] {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return [] }
            throw AccessError(.authorizedKeys, subject: path, detail: "cannot read (\(Errno(rawValue: errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw AccessError(.authorizedKeys, subject: path, detail: "is not a regular file (a symlink?); replace it with a plain file")
        }
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path, limit: 4 << 20) } catch {
            throw AccessError(.authorizedKeys, subject: path, detail: "cannot read (\(error))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Creates `directory` (0700, parents as needed) or checks that it is a real directory.
    private func ensureDirectory(_ directory: String) throws(AccessError) {
        var st = stat()
        if lstat(directory, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else {
                throw AccessError(.authorizedKeys, subject: directory, detail: "is not a real directory (a symlink?)")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AccessError(.authorizedKeys, subject: directory, detail: "cannot create (\(error.localizedDescription))")
        }
    }
}

/// `word` as one `/bin/sh` word: bare when it only holds safe characters, else in single quotes.
func shellQuoted(_ word: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=,@%")
    if !word.isEmpty && word.allSatisfy(safe.contains) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage

/// What the master's key may do on a replica: the entry point of the forced command
/// (`cloudmin-mirror replica serve`) that `replica init` writes into authorized_keys.
///
/// sshd runs the forced command whatever the client asked for and passes the request in
/// `SSH_ORIGINAL_COMMAND`: empty for a shell, the `Subsystem sftp` command for SFTP
/// (`internal-sftp` or the sftp-server path), or the command line the client sent.
public enum ServeDispatch {
    /// The command the master runs to talk the replication protocol.
    public static let protocolCommand = "cloudmin-mirror-rpc"

    /// The OpenSSH SFTP server started for SFTP requests.
    public static let sftpServerPath = "/usr/lib/openssh/sftp-server"

    /// The SFTP requests a replication key may make (names from `sftp-server -Q requests`):
    /// reading and listing only. Replication data travels over the protocol channel, so the
    /// master needs SFTP at most to look; `-R` refuses writes as well, belt and braces.
    public static let sftpAllowedRequests = [
        "open", "close", "read", "lstat", "fstat", "opendir", "readdir", "realpath", "stat",
        "readlink", "statvfs", "fstatvfs", "limits", "expand-path",
    ]

    /// What the client asked for.
    public enum Request: Sendable, Hashable {
        /// The SFTP subsystem.
        case sftp
        /// The replication protocol.
        case replication
        /// Anything else (a shell when empty): refused.
        case other(String)
    }

    /// Classifies `SSH_ORIGINAL_COMMAND`.
    /// - Parameter originalCommand: its value; nil when unset.
    public static func classify(_ originalCommand: String?) -> Request {
        let command = (originalCommand ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else { return .other("") }
        if first == "internal-sftp" || first == "sftp-server" || first.hasSuffix("/sftp-server") { return .sftp }
        if words.count == 1 && first == Substring(protocolCommand) { return .replication }
        return .other(command)
    }

    /// Serves one SSH connection of the master's key: execs the SFTP server, runs the replica
    /// protocol on `stream`, or refuses. The role and fingerprint are checked before anything is
    /// read from the stream.
    /// - Parameters:
    ///   - context: this replica.
    ///   - masterFingerprint: the fingerprint the forced command names (the key sshd accepted).
    ///   - originalCommand: `SSH_ORIGINAL_COMMAND`.
    ///   - stream: the connection (stdin/stdout).
    /// - Throws: `AccessError` `.refusedCommand`, `.notReplica`, `.wrongMaster`, `.sftpServer`;
    ///   what `ReplicaServer.serve` throws. Does not return for SFTP: the process becomes the
    ///   SFTP server (`execv`).
    public static func serve(context: MirrorContext, masterFingerprint: String, originalCommand: String?,
                             stream: ByteStream) throws {
        switch classify(originalCommand) {
        case .other(let command):
            throw AccessError(.refusedCommand, subject: command, detail: masterFingerprint)
        case .sftp:
            try execSFTPServer(startDirectory: context.stateDirectory)
        case .replication:
            let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
            guard role.role == .replica else { throw AccessError(.notReplica, subject: role.role.rawValue) }
            guard let accepted = role.masterFingerprint, accepted == masterFingerprint else {
                throw AccessError(.wrongMaster, subject: masterFingerprint, detail: role.masterFingerprint ?? "(none)")
            }
            try ReplicaServer.serve(context: context, stream: stream, clientFingerprint: masterFingerprint)
        }
    }

    /// `serve` for the connection sshd handed this process: `SSH_ORIGINAL_COMMAND`, stdin and stdout.
    /// - Parameters: as `serve`.
    /// - Throws: as `serve`.
    public static func serveSSHConnection(context: MirrorContext, masterFingerprint: String) throws {
        try serve(context: context, masterFingerprint: masterFingerprint,
                  originalCommand: ProcessInfo.processInfo.environment["SSH_ORIGINAL_COMMAND"],
                  stream: FileDescriptorStream(input: .standardInput, output: .standardOutput))
    }

    /// Replaces this process with `sftp-server -R -d DIR -p ALLOWED` (read-only, in the state
    /// directory), keeping stdin/stdout. Wraps `execv`.
    static func execSFTPServer(startDirectory: String) throws(AccessError) -> Never {
        guard access(sftpServerPath, X_OK) == 0 else {
            throw AccessError(.sftpServer, subject: sftpServerPath, detail: "not installed or not executable")
        }
        // sftp-server expands %d/%u in -d; a literal % is written %%.
        let directory = startDirectory.replacingOccurrences(of: "%", with: "%%")
        let arguments = ["sftp-server", "-R", "-d", directory, "-p", sftpAllowedRequests.joined(separator: ",")]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv(sftpServerPath, &argv)
        let code = errno
        for p in argv { free(p) }
        throw AccessError(.sftpServer, subject: sftpServerPath, detail: "exec failed (\(Errno(rawValue: code)))")
    }
}


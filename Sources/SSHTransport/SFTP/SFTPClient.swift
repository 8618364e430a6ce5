/// An SFTP subsystem on a session: path operations, and files and directories to open.
///
/// Owns its libssh2 SFTP handle (shut down in `deinit`) and keeps its session alive. Like the
/// session it is not `Sendable`: use it from the task that owns the session.
public final class SFTPClient {
    /// The session this client runs on.
    public let session: SSHSession
    let raw: OpaquePointer

    /// Starts the SFTP subsystem.
    /// - Throws: `SSHError` (`.channelFailed` when the server has no sftp subsystem, `.timeout`, ...).
    /// - Wraps: `libssh2_sftp_init`.
    public init(session: SSHSession) throws {
        self.session = session
        guard let raw = try session.performHandle("starting SFTP", { LibSSH2.sftpInit(session.raw) }) else {
            throw session.error("starting SFTP", code: .channelFailed,
                                hint: "check that the server has `Subsystem sftp` configured")
        }
        self.raw = raw
    }

    deinit {
        if session.isUsable { _ = try? session.perform("closing SFTP") { LibSSH2.sftpShutdown(raw) } }
    }

    // MARK: Errors

    /// The error for a failed SFTP call: SFTP status codes become `.noSuchFile`,
    /// `.permissionDenied`, `.remoteDiskFull`, ...; transport errors come from the session.
    func failure(_ operation: String) -> SSHError {
        guard LibSSH2.lastErrno(session.raw) == LibSSH2.errorSFTPProtocol else { return session.error(operation) }
        let status = LibSSH2.sftpLastError(raw)
        let code: SSHError.Code = switch status {
        case LibSSH2.SFTPStatus.noSuchFile, LibSSH2.SFTPStatus.noSuchPath: .noSuchFile
        case LibSSH2.SFTPStatus.permissionDenied, LibSSH2.SFTPStatus.writeProtect: .permissionDenied
        case LibSSH2.SFTPStatus.noSpace, LibSSH2.SFTPStatus.quotaExceeded: .remoteDiskFull
        case LibSSH2.SFTPStatus.alreadyExists: .alreadyExists
        default: .sftp(status)
        }
        let hint: String? = status == LibSSH2.SFTPStatus.failure
            ? "OpenSSH reports most errno values (including a full disk, ENOSPC, and rename onto an existing file) as plain FAILURE; check free space with statvfs and the target path"
            : nil
        return SSHError(code, host: session.label, operation: operation, detail: "SFTP status \(status)", hint: hint)
    }

    /// Runs a path-level call: sends a keepalive if due, then retries on EAGAIN.
    func run(_ operation: @autoclosure () -> String, _ call: () -> Int) throws -> Int {
        try session.sendKeepalive()
        let rc = try session.perform(operation(), call)
        if rc < 0 { throw failure(operation()) }
        return rc
    }

    // MARK: Opening

    /// Opens a remote file.
    /// - Parameters:
    ///   - path: remote path.
    ///   - flags: SSH_FXF_* flags, e.g. `[.write, .create, .truncate]`.
    ///   - mode: permission bits for a created file.
    /// - Throws: `SSHError` (`.noSuchFile`, `.permissionDenied`, ...).
    /// - Wraps: `libssh2_sftp_open_ex(LIBSSH2_SFTP_OPENFILE)`.
    public func open(_ path: String, flags: SFTPOpenFlags = .read, mode: UInt32 = 0o644) throws -> SFTPFile {
        let op = "opening \(path)"
        try session.sendKeepalive()
        guard let h = try session.performHandle(op, { LibSSH2.sftpOpen(raw, path: path, flags: flags.rawValue, mode: Int(mode), directory: false) }) else {
            throw failure(op)
        }
        return SFTPFile(client: self, handle: h, path: path)
    }

    /// Opens a remote directory for reading its entries.
    /// - Throws: `SSHError` (`.noSuchFile`, `.permissionDenied`, ...).
    /// - Wraps: `libssh2_sftp_open_ex(LIBSSH2_SFTP_OPENDIR)`.
    public func openDirectory(_ path: String) throws -> SFTPDirectory {
        let op = "opening directory \(path)"
        try session.sendKeepalive()
        guard let h = try session.performHandle(op, { LibSSH2.sftpOpen(raw, path: path, flags: 0, mode: 0, directory: true) }) else {
            throw failure(op)
        }
        return SFTPDirectory(client: self, handle: h, path: path)
    }

    /// The entries of a remote directory, without `.` and `..`.
    /// - Throws: `SSHError`. - Wraps: `libssh2_sftp_open_ex`, `libssh2_sftp_readdir_ex`.
    public func contentsOfDirectory(_ path: String) throws -> [SFTPDirectory.Entry] {
        let dir = try openDirectory(path)
        var entries: [SFTPDirectory.Entry] = []
        while let entry = try dir.next() {
            if entry.name != "." && entry.name != ".." { entries.append(entry) }
        }
        try dir.close()
        return entries
    }

    // MARK: Path operations

    /// Attributes of `path`, following symlinks. - Wraps: `libssh2_sftp_stat_ex(LIBSSH2_SFTP_STAT)`.
    public func stat(_ path: String) throws -> SFTPAttributes {
        var attrs = SFTPAttributes()
        _ = try run("stat \(path)") { LibSSH2.sftpStat(raw, path: path, kind: .stat, &attrs) }
        return attrs
    }

    /// Attributes of `path` itself (a symlink is not followed). - Wraps: `libssh2_sftp_stat_ex(LIBSSH2_SFTP_LSTAT)`.
    public func lstat(_ path: String) throws -> SFTPAttributes {
        var attrs = SFTPAttributes()
        _ = try run("lstat \(path)") { LibSSH2.sftpStat(raw, path: path, kind: .lstat, &attrs) }
        return attrs
    }

    /// Sets the non-nil attributes (size, owner, mode, times) of `path`.
    /// - Wraps: `libssh2_sftp_stat_ex(LIBSSH2_SFTP_SETSTAT)`.
    public func setAttributes(_ path: String, _ attributes: SFTPAttributes) throws {
        var attrs = attributes
        _ = try run("setting attributes of \(path)") { LibSSH2.sftpStat(raw, path: path, kind: .setstat, &attrs) }
    }

    /// Creates a directory. - Wraps: `libssh2_sftp_mkdir_ex`.
    public func mkdir(_ path: String, mode: UInt32 = 0o755) throws {
        _ = try run("creating directory \(path)") { LibSSH2.sftpMkdir(raw, path: path, mode: Int(mode)) }
    }

    /// Removes an empty directory. - Wraps: `libssh2_sftp_rmdir_ex`.
    public func rmdir(_ path: String) throws {
        _ = try run("removing directory \(path)") { LibSSH2.sftpRmdir(raw, path: path) }
    }

    /// Removes a file or symlink. - Wraps: `libssh2_sftp_unlink_ex`.
    public func unlink(_ path: String) throws {
        _ = try run("removing \(path)") { LibSSH2.sftpUnlink(raw, path: path) }
    }

    /// Renames `from` to `to`.
    ///
    /// OpenSSH speaks SFTP v3, where rename fails (status FAILURE) when `to` exists; the
    /// overwrite/atomic flags libssh2 sends only reach v5+ servers, and libssh2 1.10 has no
    /// `posix-rename@openssh.com`. To replace a file, unlink the target first (not atomic), or
    /// rename through an exec channel (`mv -f`) where atomicity matters.
    /// - Wraps: `libssh2_sftp_rename_ex` (OVERWRITE|ATOMIC|NATIVE).
    public func rename(_ from: String, to: String) throws {
        _ = try run("renaming \(from) to \(to)") { LibSSH2.sftpRename(raw, from: from, to: to) }
    }

    /// Creates a symlink at `path` pointing to `target` (argument order as OpenSSH expects).
    /// - Wraps: `libssh2_sftp_symlink_ex(LIBSSH2_SFTP_SYMLINK)`.
    ///
    /// libssh2 1.10 reads the status of a SYMLINK reply from freed memory, so it can report a
    /// random failure for a link that was made; on such a failure the link is checked with
    /// lstat + readlink and the call succeeds when it points at `target`.
    public func symlink(at path: String, target: String) throws {
        do {
            _ = try run("creating symlink \(path)") { LibSSH2.sftpSymlink(raw, target: target, link: path) }
        } catch let error as SSHError {
            guard session.isUsable, (try? lstat(path).fileType) == .symlink, (try? readlink(path)) == target else { throw error }
        }
    }

    /// The target of symlink `path`. - Wraps: `libssh2_sftp_symlink_ex(LIBSSH2_SFTP_READLINK)`.
    public func readlink(_ path: String) throws -> String {
        var text = ""
        _ = try run("reading link \(path)") {
            let r = LibSSH2.sftpResolve(raw, path: path, realpath: false); text = r.text; return r.rc
        }
        return text
    }

    /// The canonical absolute form of `path`. - Wraps: `libssh2_sftp_symlink_ex(LIBSSH2_SFTP_REALPATH)`.
    public func realpath(_ path: String) throws -> String {
        var text = ""
        _ = try run("resolving \(path)") {
            let r = LibSSH2.sftpResolve(raw, path: path, realpath: true); text = r.text; return r.rc
        }
        return text
    }

    /// Free space and limits of the file system holding `path` (check before a big transfer).
    /// - Wraps: `libssh2_sftp_statvfs` (OpenSSH extension `statvfs@openssh.com`).
    public func statvfs(_ path: String) throws -> SFTPFileSystemStats {
        var stats: SFTPFileSystemStats?
        _ = try run("statvfs \(path)") {
            let r = LibSSH2.sftpStatvfs(raw, path: path); stats = r.stats; return r.rc
        }
        return stats!
    }
}

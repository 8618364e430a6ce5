/// An open remote file. Owns its SFTP handle (closed by `close()`, or in `deinit` as a fallback)
/// and keeps its client and session alive. Not `Sendable`: use it from the task owning the session.
public final class SFTPFile {
    /// The client this file was opened with.
    public let client: SFTPClient
    /// The remote path, as given to `open`.
    public let path: String
    private var handle: OpaquePointer?

    init(client: SFTPClient, handle: OpaquePointer, path: String) {
        self.client = client
        self.handle = handle
        self.path = path
    }

    deinit {
        if let handle, client.session.isUsable {
            _ = try? client.session.perform("closing \(path)") { LibSSH2.sftpClose(handle) }
        }
    }

    private func open(_ operation: @autoclosure () -> String) throws -> OpaquePointer {
        guard let handle else {
            throw SSHError(.disconnected, host: client.session.label, operation: operation(), detail: "file already closed")
        }
        return handle
    }

    /// Reads up to `buffer.count` bytes at the current offset; returns 0 at end of file.
    /// Large buffers (1 MiB) let libssh2 keep many read requests in flight.
    /// - Throws: `SSHError`. - Wraps: `libssh2_sftp_read`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let h = try open("reading \(path)")
        let n = try client.session.perform("reading \(path)") { LibSSH2.sftpRead(h, buffer) }
        if n < 0 { throw client.failure("reading \(path)") }
        return n
    }

    /// Reads up to `count` bytes; an empty array at end of file.
    /// - Throws: `SSHError`. - Wraps: `libssh2_sftp_read`.
    public func read(upTo count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try bytes.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes all of `buffer` at the current offset. libssh2 splits a large buffer into
    /// pipelined SFTP write requests, so pass 1 MiB at a time for speed.
    /// - Throws: `SSHError` (`.remoteDiskFull`, `.permissionDenied`, `.timeout`, ...).
    /// - Wraps: `libssh2_sftp_write`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        let h = try open("writing \(path)")
        var offset = 0
        while offset < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
            let n = try client.session.perform("writing \(path)") { LibSSH2.sftpWrite(h, rest) }
            if n < 0 { throw client.failure("writing \(path)") }
            offset += n
        }
    }

    /// Writes all of `bytes` at the current offset. - Wraps: `libssh2_sftp_write`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Moves the offset of the next read or write. - Wraps: `libssh2_sftp_seek64`.
    public func seek(to offset: UInt64) throws {
        LibSSH2.sftpSeek(try open("seeking in \(path)"), offset)
    }

    /// Attributes of the open file. - Wraps: `libssh2_sftp_fstat_ex`.
    public func stat() throws -> SFTPAttributes {
        let h = try open("fstat \(path)")
        var attrs = SFTPAttributes()
        let rc = try client.session.perform("fstat \(path)") { LibSSH2.sftpFstat(h, set: false, &attrs) }
        if rc < 0 { throw client.failure("fstat \(path)") }
        return attrs
    }

    /// Sets the non-nil attributes of the open file (size truncates/extends, owner, mode, times).
    /// - Wraps: `libssh2_sftp_fstat_ex` (setstat).
    public func setAttributes(_ attributes: SFTPAttributes) throws {
        let h = try open("setting attributes of \(path)")
        var attrs = attributes
        let rc = try client.session.perform("setting attributes of \(path)") { LibSSH2.sftpFstat(h, set: true, &attrs) }
        if rc < 0 { throw client.failure("setting attributes of \(path)") }
    }

    /// Asks the server to flush the file to stable storage.
    /// - Throws: `SSHError` (`.sftp(8)` when the server lacks `fsync@openssh.com`).
    /// - Wraps: `libssh2_sftp_fsync`.
    public func fsync() throws {
        let h = try open("fsync \(path)")
        let rc = try client.session.perform("fsync \(path)") { LibSSH2.sftpFsync(h) }
        if rc < 0 { throw client.failure("fsync \(path)") }
    }

    /// Closes the handle; the server reports late write errors here. Safe to call twice.
    /// - Wraps: `libssh2_sftp_close_handle`.
    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        let rc = try client.session.perform("closing \(path)") { LibSSH2.sftpClose(h) }
        if rc < 0 { throw client.failure("closing \(path)") }
    }
}

/// An open remote directory. Owns its SFTP handle; not `Sendable`.
public final class SFTPDirectory {
    /// One directory entry.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var attributes: SFTPAttributes
    }

    public let client: SFTPClient
    public let path: String
    private var handle: OpaquePointer?
    private var buffer = [CChar](repeating: 0, count: 4097)

    init(client: SFTPClient, handle: OpaquePointer, path: String) {
        self.client = client
        self.handle = handle
        self.path = path
    }

    deinit {
        if let handle, client.session.isUsable {
            _ = try? client.session.perform("closing directory \(path)") { LibSSH2.sftpClose(handle) }
        }
    }

    /// The next entry (including `.` and `..` as the server sends them), or nil at the end.
    /// - Wraps: `libssh2_sftp_readdir_ex`.
    public func next() throws -> Entry? {
        guard let h = handle else { return nil }
        var entry: Entry?
        let rc = try client.session.perform("reading directory \(path)") {
            let r = LibSSH2.sftpReaddir(h, &buffer)
            if r.rc > 0 { entry = Entry(name: r.name, attributes: r.attrs) }
            return r.rc
        }
        if rc < 0 { throw client.failure("reading directory \(path)") }
        return rc == 0 ? nil : entry
    }

    /// Closes the handle. - Wraps: `libssh2_sftp_close_handle`.
    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        let rc = try client.session.perform("closing directory \(path)") { LibSSH2.sftpClose(h) }
        if rc < 0 { throw client.failure("closing directory \(path)") }
    }
}

internal import CLibssh2
import Foundation

/// Thin wrappers over libssh2: every libssh2 call of this module is in this file.
///
/// Handles are `OpaquePointer`s owned by the Swift classes that call these functions; results are
/// libssh2's return codes (negative on error, `eagain` when a non-blocking call must be repeated).
enum LibSSH2 {
    static let eagain = Int(LIBSSH2_ERROR_EAGAIN)
    static let errorSFTPProtocol = Int32(LIBSSH2_ERROR_SFTP_PROTOCOL)
    static let errorAuthFailed = Int32(LIBSSH2_ERROR_AUTHENTICATION_FAILED)
    static let errorPublicKeyUnverified = Int32(LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
    static let errorFile = Int32(LIBSSH2_ERROR_FILE)
    static let errorTimeout = Int32(LIBSSH2_ERROR_TIMEOUT)
    static let errorSocketTimeout = Int32(LIBSSH2_ERROR_SOCKET_TIMEOUT)
    static let disconnectErrors: Set<Int32> = [
        LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV,
        LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BAD_SOCKET,
    ]
    static let handshakeErrors: Set<Int32> = [
        LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND, LIBSSH2_ERROR_KEX_FAILURE,
        LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE, LIBSSH2_ERROR_METHOD_NONE, LIBSSH2_ERROR_HOSTKEY_INIT,
        LIBSSH2_ERROR_HOSTKEY_SIGN, LIBSSH2_ERROR_PROTO,
    ]
    static let channelErrors: Set<Int32> = [
        LIBSSH2_ERROR_CHANNEL_FAILURE, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
        LIBSSH2_ERROR_CHANNEL_CLOSED, LIBSSH2_ERROR_CHANNEL_EOF_SENT, LIBSSH2_ERROR_CHANNEL_OUTOFORDER,
        LIBSSH2_ERROR_REQUEST_DENIED,
    ]

    // MARK: Library and session

    /// `libssh2_init(0)`, run once per process.
    private static let initResult: Int32 = libssh2_init(0)
    static func initializeOnce() -> Int32 { initResult }

    /// `libssh2_session_init_ex` (through the shim).
    static func sessionInit() -> OpaquePointer? { cm_libssh2_session_init(nil) }
    /// `libssh2_session_free`.
    @discardableResult static func sessionFree(_ s: OpaquePointer) -> Int32 { libssh2_session_free(s) }
    /// `libssh2_session_set_blocking`.
    static func setBlocking(_ s: OpaquePointer, _ blocking: Bool) { libssh2_session_set_blocking(s, blocking ? 1 : 0) }
    /// `libssh2_session_set_timeout` (milliseconds; used only in blocking mode).
    static func setTimeout(_ s: OpaquePointer, milliseconds: Int) { libssh2_session_set_timeout(s, milliseconds) }

    enum Method: Int32 {
        case kex = 0, hostKey = 1, cryptClientToServer = 2, cryptServerToClient = 3
        case macClientToServer = 4, macServerToClient = 5
    }

    /// `libssh2_session_method_pref`.
    static func methodPref(_ s: OpaquePointer, _ method: Method, _ prefs: String) -> Int32 {
        libssh2_session_method_pref(s, method.rawValue, prefs)
    }
    /// `libssh2_session_methods`: the negotiated algorithm.
    static func methods(_ s: OpaquePointer, _ method: Method) -> String? {
        libssh2_session_methods(s, method.rawValue).map { String(cString: $0) }
    }
    /// `libssh2_session_handshake`.
    static func handshake(_ s: OpaquePointer, socket: Int32) -> Int { Int(libssh2_session_handshake(s, socket)) }
    /// `libssh2_session_disconnect_ex` (through the shim).
    static func disconnect(_ s: OpaquePointer, reason: String) -> Int { Int(cm_libssh2_session_disconnect(s, reason)) }
    /// `libssh2_session_block_directions`: what the last EAGAIN waits for.
    static func blockDirections(_ s: OpaquePointer) -> (inbound: Bool, outbound: Bool) {
        let d = libssh2_session_block_directions(s)
        return (d & LIBSSH2_SESSION_BLOCK_INBOUND != 0, d & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0)
    }
    /// `libssh2_session_last_error`: error number and message.
    static func lastError(_ s: OpaquePointer) -> (code: Int32, message: String) {
        var msg: UnsafeMutablePointer<CChar>?
        var len: Int32 = 0
        let code = libssh2_session_last_error(s, &msg, &len, 0)
        return (code, msg.map { String(cString: $0) } ?? "")
    }
    /// `libssh2_session_last_errno`.
    static func lastErrno(_ s: OpaquePointer) -> Int32 { libssh2_session_last_errno(s) }

    /// `libssh2_session_hostkey`: the raw key blob and libssh2's key type number.
    static func hostKey(_ s: OpaquePointer) -> (blob: [UInt8], type: Int32)? {
        var len = 0
        var type: Int32 = 0
        guard let p = libssh2_session_hostkey(s, &len, &type), len > 0 else { return nil }
        let blob = p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
        return (blob, type)
    }
    /// `libssh2_hostkey_hash(LIBSSH2_HOSTKEY_HASH_SHA256)`: 32 raw bytes.
    static func hostKeySHA256(_ s: OpaquePointer) -> [UInt8]? {
        guard let p = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: 32) { Array(UnsafeBufferPointer(start: $0, count: 32)) }
    }

    /// Host key type numbers → OpenSSH names and libssh2 knownhost key masks.
    static func hostKeyTypeName(_ type: Int32) -> String? {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: "ssh-ed25519"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_RSA: "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: "ssh-dss"
        default: nil
        }
    }
    private static func knownHostKeyMask(_ type: Int32) -> Int32 {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: LIBSSH2_KNOWNHOST_KEY_ED25519
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_RSA: LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: LIBSSH2_KNOWNHOST_KEY_SSHDSS
        default: LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }

    /// `libssh2_keepalive_config`.
    static func keepaliveConfig(_ s: OpaquePointer, interval: UInt32) { libssh2_keepalive_config(s, 1, interval) }
    /// `libssh2_keepalive_send`.
    static func keepaliveSend(_ s: OpaquePointer) -> Int {
        var next: Int32 = 0
        return Int(libssh2_keepalive_send(s, &next))
    }

    // MARK: Known hosts

    enum KnownHostResult {
        case match
        /// The host is known with another key of the same type; the stored key in base64.
        case mismatch(storedKeyBase64: String)
        case notFound
        case failure(String)
    }

    /// `libssh2_knownhost_readfile` + `libssh2_knownhost_checkp`, matching `name` literally
    /// (port -1, so libssh2 does not fall back from `[host]:port` to the bare host).
    static func knownHostCheck(session s: OpaquePointer, file: String, name: String, key: [UInt8], keyType: Int32) -> KnownHostResult {
        guard let hosts = libssh2_knownhost_init(s) else { return .failure("libssh2_knownhost_init failed") }
        defer { libssh2_knownhost_free(hosts) }
        if FileManager.default.fileExists(atPath: file) {
            let n = libssh2_knownhost_readfile(hosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
            if n < 0 { return .failure(lastError(s).message) }
        }
        var found: UnsafeMutablePointer<libssh2_knownhost>?
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownHostKeyMask(keyType)
        let rc = key.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { cbuf in
                libssh2_knownhost_checkp(hosts, name, -1, cbuf.baseAddress, key.count, mask, &found)
            }
        }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            return .mismatch(storedKeyBase64: found.flatMap { $0.pointee.key.map { String(cString: $0) } } ?? "")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: return .notFound
        default: return .failure(lastError(s).message)
        }
    }

    /// The algorithm name of the first key pinned for `name` in `file`, whatever its type
    /// (`libssh2_knownhost_checkp` with key type 0 and an empty key reports the first entry for
    /// the host as a mismatch). Used to prefer the pinned key type in the handshake, as OpenSSH does.
    static func pinnedKeyAlgorithm(session s: OpaquePointer, file: String, name: String) -> String? {
        guard FileManager.default.fileExists(atPath: file), let hosts = libssh2_knownhost_init(s) else { return nil }
        defer { libssh2_knownhost_free(hosts) }
        guard libssh2_knownhost_readfile(hosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0 else { return nil }
        var found: UnsafeMutablePointer<libssh2_knownhost>?
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64
        guard libssh2_knownhost_checkp(hosts, name, -1, "", 0, mask, &found) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH,
              let type = found?.pointee.typemask else { return nil }
        switch type & LIBSSH2_KNOWNHOST_KEY_MASK {
        case LIBSSH2_KNOWNHOST_KEY_ED25519: return "ssh-ed25519"
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: return "ecdsa-sha2-nistp256"
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: return "ecdsa-sha2-nistp384"
        case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: return "ecdsa-sha2-nistp521"
        case LIBSSH2_KNOWNHOST_KEY_SSHRSA: return "ssh-rsa"
        default: return nil
        }
    }

    // MARK: Authentication

    /// `libssh2_userauth_publickey_fromfile_ex`.
    static func userauthPublicKeyFromFile(_ s: OpaquePointer, user: String, publicKey: String?, privateKey: String, passphrase: String?) -> Int {
        Int(libssh2_userauth_publickey_fromfile_ex(s, user, UInt32(user.utf8.count), publicKey, privateKey, passphrase))
    }

    /// ssh-agent authentication: `libssh2_agent_init/connect/list_identities/get_identity/userauth`,
    /// trying each identity in turn. Run with the session in blocking mode (bounded by its timeout).
    /// Returns 0 on success, else the last libssh2 error and whether an agent was reachable.
    static func agentAuthenticate(_ s: OpaquePointer, user: String) -> (rc: Int32, agentReachable: Bool, identities: Int) {
        guard let agent = libssh2_agent_init(s) else { return (lastErrno(s), false, 0) }
        defer { libssh2_agent_free(agent) }
        guard libssh2_agent_connect(agent) == 0 else { return (lastErrno(s), false, 0) }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return (lastErrno(s), true, 0) }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        var rc: Int32 = LIBSSH2_ERROR_AUTHENTICATION_FAILED
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let id = identity {
            tried += 1
            rc = libssh2_agent_userauth(agent, user, id)
            if rc == 0 { return (0, true, tried) }
            previous = id
        }
        return (rc, true, tried)
    }

    // MARK: Channels

    /// `libssh2_channel_open_session` (through the shim).
    static func channelOpenSession(_ s: OpaquePointer, window: UInt32) -> OpaquePointer? {
        cm_libssh2_channel_open_session(s, window)
    }
    /// `libssh2_channel_exec` (through the shim).
    static func channelExec(_ c: OpaquePointer, _ command: String) -> Int {
        Int(cm_libssh2_channel_exec(c, command, UInt32(command.utf8.count)))
    }
    /// `libssh2_channel_read_ex`; stream 0 is stdout, 1 is stderr.
    static func channelRead(_ c: OpaquePointer, stream: Int32, _ buf: UnsafeMutableRawBufferPointer) -> Int {
        libssh2_channel_read_ex(c, stream, buf.baseAddress?.assumingMemoryBound(to: CChar.self), buf.count)
    }
    /// `libssh2_channel_write_ex` on stream 0 (stdin).
    static func channelWrite(_ c: OpaquePointer, _ buf: UnsafeRawBufferPointer) -> Int {
        libssh2_channel_write_ex(c, 0, buf.baseAddress?.assumingMemoryBound(to: CChar.self), buf.count)
    }
    /// `libssh2_channel_send_eof`.
    static func channelSendEOF(_ c: OpaquePointer) -> Int { Int(libssh2_channel_send_eof(c)) }
    /// `libssh2_channel_eof`: 1 when the remote side sent EOF.
    static func channelEOF(_ c: OpaquePointer) -> Bool { libssh2_channel_eof(c) == 1 }
    /// `libssh2_channel_close`.
    static func channelClose(_ c: OpaquePointer) -> Int { Int(libssh2_channel_close(c)) }
    /// `libssh2_channel_wait_closed`.
    static func channelWaitClosed(_ c: OpaquePointer) -> Int { Int(libssh2_channel_wait_closed(c)) }
    /// `libssh2_channel_free`.
    static func channelFree(_ c: OpaquePointer) -> Int { Int(libssh2_channel_free(c)) }
    /// `libssh2_channel_get_exit_status`.
    static func channelExitStatus(_ c: OpaquePointer) -> Int32 { libssh2_channel_get_exit_status(c) }
    /// `libssh2_channel_get_exit_signal`: the signal name without "SIG", if the command died of one.
    static func channelExitSignal(_ c: OpaquePointer) -> String? {
        var name: UnsafeMutablePointer<CChar>?
        var len = 0
        guard libssh2_channel_get_exit_signal(c, &name, &len, nil, nil, nil, nil) == 0, let name else { return nil }
        defer { free(name) }
        return String(cString: name)
    }

    // MARK: SFTP

    /// `libssh2_sftp_init`.
    static func sftpInit(_ s: OpaquePointer) -> OpaquePointer? { libssh2_sftp_init(s) }
    /// `libssh2_sftp_shutdown`.
    static func sftpShutdown(_ sftp: OpaquePointer) -> Int { Int(libssh2_sftp_shutdown(sftp)) }
    /// `libssh2_sftp_last_error`: the SFTP status code of the last failed request.
    static func sftpLastError(_ sftp: OpaquePointer) -> UInt { UInt(libssh2_sftp_last_error(sftp)) }
    /// `libssh2_sftp_open_ex` for a file (`directory == false`) or a directory.
    static func sftpOpen(_ sftp: OpaquePointer, path: String, flags: UInt, mode: Int, directory: Bool) -> OpaquePointer? {
        libssh2_sftp_open_ex(sftp, path, UInt32(path.utf8.count), flags, mode,
                             directory ? LIBSSH2_SFTP_OPENDIR : LIBSSH2_SFTP_OPENFILE)
    }
    /// `libssh2_sftp_read`.
    static func sftpRead(_ h: OpaquePointer, _ buf: UnsafeMutableRawBufferPointer) -> Int {
        libssh2_sftp_read(h, buf.baseAddress?.assumingMemoryBound(to: CChar.self), buf.count)
    }
    /// `libssh2_sftp_write`.
    static func sftpWrite(_ h: OpaquePointer, _ buf: UnsafeRawBufferPointer) -> Int {
        libssh2_sftp_write(h, buf.baseAddress?.assumingMemoryBound(to: CChar.self), buf.count)
    }
    /// `libssh2_sftp_seek64`.
    static func sftpSeek(_ h: OpaquePointer, _ offset: UInt64) { libssh2_sftp_seek64(h, offset) }
    /// `libssh2_sftp_close_handle`.
    static func sftpClose(_ h: OpaquePointer) -> Int { Int(libssh2_sftp_close_handle(h)) }
    /// `libssh2_sftp_fsync` (OpenSSH's fsync@openssh.com extension).
    static func sftpFsync(_ h: OpaquePointer) -> Int { Int(libssh2_sftp_fsync(h)) }

    private static func toC(_ a: SFTPAttributes) -> LIBSSH2_SFTP_ATTRIBUTES {
        var c = LIBSSH2_SFTP_ATTRIBUTES()
        if let size = a.size { c.flags |= UInt(LIBSSH2_SFTP_ATTR_SIZE); c.filesize = size }
        if a.uid != nil || a.gid != nil {
            c.flags |= UInt(LIBSSH2_SFTP_ATTR_UIDGID); c.uid = UInt(a.uid ?? 0); c.gid = UInt(a.gid ?? 0)
        }
        if let p = a.permissions { c.flags |= UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS); c.permissions = UInt(p) }
        if a.accessTime != nil || a.modificationTime != nil {
            c.flags |= UInt(LIBSSH2_SFTP_ATTR_ACMODTIME)
            c.atime = UInt(a.accessTime ?? a.modificationTime ?? 0); c.mtime = UInt(a.modificationTime ?? a.accessTime ?? 0)
        }
        return c
    }
    private static func fromC(_ c: LIBSSH2_SFTP_ATTRIBUTES) -> SFTPAttributes {
        var a = SFTPAttributes()
        if c.flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 { a.size = c.filesize }
        if c.flags & UInt(LIBSSH2_SFTP_ATTR_UIDGID) != 0 { a.uid = UInt32(truncatingIfNeeded: c.uid); a.gid = UInt32(truncatingIfNeeded: c.gid) }
        if c.flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0 { a.permissions = UInt32(truncatingIfNeeded: c.permissions) }
        if c.flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0 { a.accessTime = UInt64(c.atime); a.modificationTime = UInt64(c.mtime) }
        return a
    }

    enum StatKind: Int32 { case stat = 0, lstat = 1, setstat = 2 }

    /// `libssh2_sftp_stat_ex` (stat, lstat or setstat).
    static func sftpStat(_ sftp: OpaquePointer, path: String, kind: StatKind, _ attrs: inout SFTPAttributes) -> Int {
        var c = toC(attrs)
        let rc = libssh2_sftp_stat_ex(sftp, path, UInt32(path.utf8.count), kind.rawValue, &c)
        if rc == 0 && kind != .setstat { attrs = fromC(c) }
        return Int(rc)
    }
    /// `libssh2_sftp_fstat_ex` (fstat, or fsetstat when `set`).
    static func sftpFstat(_ h: OpaquePointer, set: Bool, _ attrs: inout SFTPAttributes) -> Int {
        var c = toC(attrs)
        let rc = libssh2_sftp_fstat_ex(h, &c, set ? 1 : 0)
        if rc == 0 && !set { attrs = fromC(c) }
        return Int(rc)
    }
    /// `libssh2_sftp_mkdir_ex`.
    static func sftpMkdir(_ sftp: OpaquePointer, path: String, mode: Int) -> Int {
        Int(libssh2_sftp_mkdir_ex(sftp, path, UInt32(path.utf8.count), mode))
    }
    /// `libssh2_sftp_rmdir_ex`.
    static func sftpRmdir(_ sftp: OpaquePointer, path: String) -> Int {
        Int(libssh2_sftp_rmdir_ex(sftp, path, UInt32(path.utf8.count)))
    }
    /// `libssh2_sftp_unlink_ex`.
    static func sftpUnlink(_ sftp: OpaquePointer, path: String) -> Int {
        Int(libssh2_sftp_unlink_ex(sftp, path, UInt32(path.utf8.count)))
    }
    /// `libssh2_sftp_rename_ex` with OVERWRITE|ATOMIC|NATIVE (ignored by SFTP v3 servers such as OpenSSH).
    static func sftpRename(_ sftp: OpaquePointer, from: String, to: String) -> Int {
        let flags = Int(LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE)
        return Int(libssh2_sftp_rename_ex(sftp, from, UInt32(from.utf8.count), to, UInt32(to.utf8.count), flags))
    }
    /// `libssh2_sftp_symlink_ex(LIBSSH2_SFTP_SYMLINK)`: creates `link` pointing at `target`.
    static func sftpSymlink(_ sftp: OpaquePointer, target: String, link: String) -> Int {
        var l = Array(link.utf8CString)
        return Int(libssh2_sftp_symlink_ex(sftp, target, UInt32(target.utf8.count), &l, UInt32(l.count - 1), LIBSSH2_SFTP_SYMLINK))
    }
    /// `libssh2_sftp_symlink_ex(LIBSSH2_SFTP_READLINK or _REALPATH)`: the resolved text, or the error code.
    static func sftpResolve(_ sftp: OpaquePointer, path: String, realpath: Bool) -> (rc: Int, text: String) {
        var buf = [CChar](repeating: 0, count: 4097)
        let rc = libssh2_sftp_symlink_ex(sftp, path, UInt32(path.utf8.count), &buf, UInt32(buf.count - 1),
                                         realpath ? LIBSSH2_SFTP_REALPATH : LIBSSH2_SFTP_READLINK)
        guard rc >= 0 else { return (Int(rc), "") }
        let bytes = buf[0..<Int(rc)].map { UInt8(bitPattern: $0) }
        return (Int(rc), String(decoding: bytes, as: UTF8.self))
    }
    /// `libssh2_sftp_readdir_ex`: name length (0 at the end) or error, the name, and its attributes.
    static func sftpReaddir(_ h: OpaquePointer, _ buf: inout [CChar]) -> (rc: Int, name: String, attrs: SFTPAttributes) {
        var c = LIBSSH2_SFTP_ATTRIBUTES()
        let rc = buf.withUnsafeMutableBufferPointer { b in
            libssh2_sftp_readdir_ex(h, b.baseAddress, b.count - 1, nil, 0, &c)
        }
        guard rc > 0 else { return (Int(rc), "", SFTPAttributes()) }
        let bytes = buf[0..<Int(rc)].map { UInt8(bitPattern: $0) }
        return (Int(rc), String(decoding: bytes, as: UTF8.self), fromC(c))
    }
    /// `libssh2_sftp_statvfs` (OpenSSH's statvfs@openssh.com extension).
    static func sftpStatvfs(_ sftp: OpaquePointer, path: String) -> (rc: Int, stats: SFTPFileSystemStats) {
        var st = LIBSSH2_SFTP_STATVFS()
        let rc = libssh2_sftp_statvfs(sftp, path, path.utf8.count, &st)
        let stats = SFTPFileSystemStats(blockSize: st.f_bsize, fragmentSize: st.f_frsize, blocks: st.f_blocks,
                                        freeBlocks: st.f_bfree, availableBlocks: st.f_bavail,
                                        files: st.f_files, freeFiles: st.f_ffree, maxNameLength: st.f_namemax)
        return (Int(rc), stats)
    }

    /// SFTP status codes (SSH_FX_*) this module maps to specific error codes.
    enum SFTPStatus {
        static let eof = UInt(LIBSSH2_FX_EOF)
        static let noSuchFile = UInt(LIBSSH2_FX_NO_SUCH_FILE)
        static let noSuchPath = UInt(LIBSSH2_FX_NO_SUCH_PATH)
        static let permissionDenied = UInt(LIBSSH2_FX_PERMISSION_DENIED)
        static let writeProtect = UInt(LIBSSH2_FX_WRITE_PROTECT)
        static let noSpace = UInt(LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM)
        static let quotaExceeded = UInt(LIBSSH2_FX_QUOTA_EXCEEDED)
        static let alreadyExists = UInt(LIBSSH2_FX_FILE_ALREADY_EXISTS)
        static let failure = UInt(LIBSSH2_FX_FAILURE)
    }
}

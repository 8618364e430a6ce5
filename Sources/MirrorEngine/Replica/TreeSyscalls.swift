#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
internal import CSyscalls

// Every raw libc call the replica's tree writer makes, as thin wrappers returning `Errno`.
// Each call works relative to an open directory and never follows a final symlink.
enum TreeSys {
    static func check(_ r: CInt) throws(Errno) {
        if r != 0 { throw Errno(rawValue: errno) }
    }

    /// `openat(dirfd, name, O_DIRECTORY|O_NOFOLLOW)`.
    static func openDirectory(_ dirfd: CInt, _ name: String) throws(Errno) -> CInt {
        while true {
            let fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }

    /// `open(path, O_DIRECTORY)`, following symlinks: only for the host's own layout above a tree.
    static func openHostDirectory(_ path: String) throws(Errno) -> CInt {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw Errno(rawValue: errno) }
        return fd
    }

    /// `openat(dirfd, name, flags|O_NOFOLLOW, mode)`.
    static func openFile(_ dirfd: CInt, _ name: String, flags: CInt, mode: mode_t = 0o600) throws(Errno) -> CInt {
        while true {
            let fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }

    /// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`; nil when it does not exist.
    static func lstat(_ dirfd: CInt, _ name: String) throws(Errno) -> stat? {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw Errno(rawValue: errno)
    }

    static func mkdir(_ dirfd: CInt, _ name: String, mode: mode_t) throws(Errno) { try check(mkdirat(dirfd, name, mode)) }
    static func unlink(_ dirfd: CInt, _ name: String, directory: Bool) throws(Errno) {
        try check(unlinkat(dirfd, name, directory ? AT_REMOVEDIR : 0))
    }
    static func rename(_ dirfd: CInt, _ from: String, _ to: String) throws(Errno) { try check(renameat(dirfd, from, dirfd, to)) }
    static func symlink(_ target: String, _ dirfd: CInt, _ name: String) throws(Errno) { try check(symlinkat(target, dirfd, name)) }
    static func link(_ fromDir: CInt, _ from: String, _ toDir: CInt, _ to: String) throws(Errno) { try check(linkat(fromDir, from, toDir, to, 0)) }
    static func chmod(_ dirfd: CInt, _ name: String, _ mode: UInt32) throws(Errno) { try check(fchmodat(dirfd, name, mode_t(mode), 0)) }
    static func lchown(_ dirfd: CInt, _ name: String, _ uid: UInt32, _ gid: UInt32) throws(Errno) {
        try check(fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW))
    }
    /// `utimensat(dirfd, name, [now-ish atime, mtime], AT_SYMLINK_NOFOLLOW)`.
    static func setMtime(_ dirfd: CInt, _ name: String, ns: Int64) throws(Errno) {
        let sec = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
        let t = timespec(tv_sec: Int(sec), tv_nsec: Int(ns - sec * 1_000_000_000))
        var times = [t, t]
        try check(utimensat(dirfd, name, &times, AT_SYMLINK_NOFOLLOW))
    }
    static func fsync(_ fd: CInt) throws(Errno) { try check(Glibc.fsync(fd)) }
    static func ftruncate(_ fd: CInt, _ size: Int64) throws(Errno) { try check(Glibc.ftruncate(fd, off_t(size))) }
    static func close(_ fd: CInt) { _ = Glibc.close(fd) }
    static var isRoot: Bool { geteuid() == 0 }

    /// `pwrite` of every byte.
    static func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 { if errno == EINTR { continue }; throw Errno(rawValue: errno) }
            done += n
        }
    }
    /// `pread`, retried on EINTR.
    static func read(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }
    /// `lseek(SEEK_DATA)` / `lseek(SEEK_HOLE)`; nil past the end.
    static func seek(_ fd: CInt, _ offset: Int64, data: Bool) throws(Errno) -> Int64? {
        let r = lseek(fd, off_t(offset), data ? 3 /* SEEK_DATA */ : 4 /* SEEK_HOLE */)
        if r >= 0 { return Int64(r) }
        if errno == ENXIO { return nil }
        throw Errno(rawValue: errno)
    }
    /// `syncfs(2)`: writes back the whole filesystem holding `fd` (one journal commit for
    /// thousands of files, where an `fsync` each costs a commit each).
    static func syncFilesystem(_ fd: CInt) throws(Errno) { try check(cm_syncfs(fd)) }

    /// Syncs each distinct filesystem among these host directories (missing ones are skipped).
    static func syncFilesystems(of directories: [String]) throws(Errno) {
        var seen = Set<UInt64>()
        for path in directories {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, seen.insert(UInt64(st.st_dev)).inserted else { continue }
            try syncFilesystem(fd)
        }
    }

    /// Free bytes for an unprivileged writer on the filesystem holding `fd`.
    static func freeBytes(_ fd: CInt) throws(Errno) -> Int64 {
        var s = statvfs()
        try check(fstatvfs(fd, &s))
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Directory entry names (not `.`/`..`) of an open directory; the fd stays open.
    static func list(_ dirfd: CInt) throws(Errno) -> [String] {
        let dup = Glibc.dup(dirfd)
        guard dup >= 0, let dir = fdopendir(dup) else { throw Errno(rawValue: errno) }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

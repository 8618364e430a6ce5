#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

// Thin wrappers over the raw POSIX calls the scanner and digester make (the calls swift-system
// lacks: fstatat, fdopendir/readdir, readlinkat, lseek SEEK_DATA/SEEK_HOLE). Every raw libc call
// of TreeDiff's file-system layer lives here; callers see Swift types and `Errno`.

/// The kind of a file-system object as `stat` reports it.
enum StatKind: Sendable, Equatable {
    case regular, directory, symlink, fifo, socket, characterDevice, blockDevice, unknown
}

/// The fields of `struct stat` the scanner uses.
struct FileStatus: Sendable, Equatable {
    var kind: StatKind
    /// Permission bits including setuid, setgid and sticky (`st_mode & 07777`).
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var mtimeNs: Int64
    var ctimeNs: Int64
    var inode: UInt64
    var device: UInt64
    /// Allocated 512-byte blocks; fewer than the size needs means the file has holes.
    var blocks: Int64

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .unknown
        }
        mode = UInt32(st.st_mode & 0o7777)
        uid = st.st_uid
        gid = st.st_gid
        size = Int64(st.st_size)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
        blocks = Int64(st.st_blocks)
    }

    /// Whether two observations of the same file show no change to its data.
    func sameContentStamp(as other: FileStatus) -> Bool {
        size == other.size && mtimeNs == other.mtimeNs && ctimeNs == other.ctimeNs
            && inode == other.inode && device == other.device
    }
}

enum Sys {
    /// Linux `SEEK_DATA` and `SEEK_HOLE` (hidden behind `_GNU_SOURCE` in the Glibc module).
    static let seekDataWhence: CInt = 3
    static let seekHoleWhence: CInt = 4

    /// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`: never follows a final symlink.
    static func lstatAt(_ dirfd: CInt, _ name: UnsafePointer<CChar>) -> Result<FileStatus, Errno> {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { return .failure(Errno(rawValue: errno)) }
        return .success(FileStatus(st))
    }

    /// `fstat(fd)`.
    static func fstatus(_ fd: CInt) -> Result<FileStatus, Errno> {
        var st = stat()
        if fstat(fd, &st) != 0 { return .failure(Errno(rawValue: errno)) }
        return .success(FileStatus(st))
    }

    /// `openat(dirfd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)`.
    static func openDirectory(_ dirfd: CInt, _ name: UnsafePointer<CChar>) -> Result<CInt, Errno> {
        retryingOpen { openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// `openat(dirfd, name, O_RDONLY|O_NOFOLLOW|O_NOCTTY|O_NONBLOCK|O_CLOEXEC)` for a regular file.
    /// `O_NONBLOCK` keeps a fifo swapped in after `fstatat` from blocking the scan.
    static func openFile(_ dirfd: CInt, _ name: UnsafePointer<CChar>) -> Result<CInt, Errno> {
        retryingOpen { openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }
    }

    private static func retryingOpen(_ body: () -> CInt) -> Result<CInt, Errno> {
        while true {
            let fd = body()
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(Errno(rawValue: errno)) }
        }
    }

    /// `clock_gettime(CLOCK_REALTIME)` in nanoseconds (the clock file times come from).
    static func realtimeNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `nanosleep` for `nanoseconds`.
    static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// `close(fd)`; errors are ignored (read-only descriptors).
    static func closeQuietly(_ fd: CInt) {
        _ = close(fd)
    }

    /// `readlinkat(dirfd, name)`: the raw target bytes of a symlink.
    static func readLink(_ dirfd: CInt, _ name: UnsafePointer<CChar>, expectedSize: Int) -> Result<[UInt8], Errno> {
        var capacity = max(expectedSize + 1, 64)
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBytes { readlinkat(dirfd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) }
            if count < 0 { return .failure(Errno(rawValue: errno)) }
            if count < capacity { return .success(Array(buffer[0..<count])) }
            capacity *= 2
            if capacity > 1 << 20 { return .failure(.fileNameTooLong) }
        }
    }

    /// `pread(fd, buffer, offset)`, retried on EINTR.
    static func readAt(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, offset: Int64) -> Result<Int, Errno> {
        while true {
            let count = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return .success(count) }
            if errno != EINTR { return .failure(Errno(rawValue: errno)) }
        }
    }

    /// `lseek(fd, offset, SEEK_DATA)`: the next data offset, or nil past the last data.
    static func seekData(_ fd: CInt, from offset: Int64) -> Result<Int64?, Errno> {
        let result = lseek(fd, off_t(offset), seekDataWhence)
        if result >= 0 { return .success(Int64(result)) }
        if errno == ENXIO { return .success(nil) }
        return .failure(Errno(rawValue: errno))
    }

    /// `lseek(fd, offset, SEEK_HOLE)`: the next hole offset (the file size at the latest).
    static func seekHole(_ fd: CInt, from offset: Int64) -> Result<Int64?, Errno> {
        let result = lseek(fd, off_t(offset), seekHoleWhence)
        if result >= 0 { return .success(Int64(result)) }
        if errno == ENXIO { return .success(nil) }
        return .failure(Errno(rawValue: errno))
    }
}

/// An open directory stream (`fdopendir`/`readdir`), owning its descriptor.
final class DirectoryStream {
    private let stream: OpaquePointer
    /// The directory's descriptor, valid while the stream is open (for the `*at` calls).
    let fd: CInt

    /// Wraps `fdopendir(fd)`; on success the stream owns `fd`, on failure `fd` is closed.
    init(adopting fd: CInt) throws(Errno) {
        guard let dir = fdopendir(fd) else {
            let error = Errno(rawValue: errno)
            Sys.closeQuietly(fd)
            throw error
        }
        stream = dir
        self.fd = fd
    }

    /// Calls `body` with each entry name except `.` and `..` (`readdir`).
    /// - Returns: the error `readdir` reported, if any.
    func forEachName(_ body: (UnsafePointer<CChar>) throws -> Void) rethrows -> Errno? {
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                return errno == 0 ? nil : Errno(rawValue: errno)
            }
            let isDot: Bool = withUnsafePointer(to: &entry.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: 3) { name in
                    name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
                }
            }
            if isDot { continue }
            try withUnsafePointer(to: &entry.pointee.d_name) { raw in
                try raw.withMemoryRebound(to: CChar.self, capacity: 256) { try body($0) }
            }
        }
    }

    deinit {
        closedir(stream)
    }
}

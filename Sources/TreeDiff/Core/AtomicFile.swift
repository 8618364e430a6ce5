#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Durable whole-file replacement: write a temp file beside the target, fsync it, rename it
/// over the target, fsync the directory. A crash leaves the old file or the new one, never half.
public enum AtomicFile {
    /// Replaces `path` with `bytes`.
    /// - Parameters:
    ///   - path: the file to replace; its directory must exist.
    ///   - bytes: the new content.
    ///   - mode: permission bits of the new file.
    /// - Throws: `Errno` from open/write/fsync/rename (the temp file is removed on failure).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: FilePermissions = [.ownerReadWrite]) throws {
        let target = FilePath(path)
        let dir = target.removingLastComponent()
        let temp = dir.appending(".\(target.lastComponent?.string ?? "file").tmp.\(getpid())")
        let fd = try FileDescriptor.open(temp, .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec], permissions: mode)
        do {
            try fd.closeAfter {
                let array = Array(bytes)
                _ = try array.withUnsafeBytes { try fd.writeAll($0) }
                guard fsync(fd.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
            guard rename(temp.string, target.string) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            _ = unlink(temp.string)
            throw error
        }
        try syncDirectory(dir)
    }

    /// Flushes a directory's entries (after renames and unlinks) to disk.
    public static func syncDirectory(_ dir: FilePath) throws {
        let dfd = try FileDescriptor.open(dir, .readOnly, options: [.directory])
        try dfd.closeAfter {
            guard fsync(dfd.rawValue) == 0 else { throw Errno(rawValue: errno) }
        }
    }

    /// The whole content of a file, refusing anything bigger than `limit` bytes.
    /// - Parameters:
    ///   - followSymlink: open through a final symlink (default: refuse it with ELOOP).
    /// - Throws: `Errno` (`.fileTooLarge` past `limit`).
    public static func read(_ path: String, limit: Int = 16 << 20, followSymlink: Bool = false) throws -> [UInt8] {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: followSymlink ? [.closeOnExec] : [.noFollow, .closeOnExec])
        return try fd.closeAfter {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
                if n == 0 { break }
                out.append(contentsOf: buffer[..<n])
                if out.count > limit { throw Errno.fileTooLarge }
            }
            return out
        }
    }
}

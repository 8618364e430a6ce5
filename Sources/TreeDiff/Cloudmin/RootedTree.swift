#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads files and directories strictly inside a root: every path component is opened with
/// `openat(O_NOFOLLOW)`, so a symlink (or `..`) can never lead a read outside the tree.
struct RootedTree {
    /// One directory entry, as `lstat` sees it (symlinks are reported, never followed).
    struct Entry: Hashable {
        enum Kind { case file, directory, symlink, other }
        let name: String
        let kind: Kind
    }

    /// Why a read failed; `errno` text in `detail`.
    enum ReadError: Error {
        case notFound
        case notRegularFile
        case tooLarge(Int)
        case failed(String)
    }

    let root: String

    /// Reads a whole regular file, refusing symlinks and files over `limit` bytes.
    func readFile(_ relativePath: String, limit: Int) throws(ReadError) -> [UInt8] {
        let (parent, name) = try openParent(relativePath)
        defer { close(parent) }
        let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw Self.error(errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw Self.error(errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile }
        guard Int(info.st_size) <= limit else { throw .tooLarge(Int(info.st_size)) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error(errno)
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > limit { throw .tooLarge(bytes.count) }
        }
        return bytes
    }

    /// Lists a directory, sorted by name; `nil` when it does not exist.
    func listDirectory(_ relativePath: String) throws(ReadError) -> [Entry]? {
        let fd: Int32
        do {
            fd = try openDirectory(components(relativePath))
        } catch .notFound {
            return nil
        }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw Self.error(code)
        }
        defer { closedir(dir) }
        var entries: [Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(dirfd(dir), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind: Entry.Kind
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .directory
            case S_IFLNK: kind = .symlink
            default: kind = .other
            }
            entries.append(Entry(name: name, kind: kind))
        }
        return entries.sorted { $0.name < $1.name }
    }

    private func components(_ relativePath: String) throws(ReadError) -> [String] {
        let parts = relativePath.split(separator: "/").map(String.init)
        guard !parts.contains(where: { $0 == ".." || $0 == "." }) else { throw .failed("path leaves the tree") }
        return parts
    }

    /// Opens the directory holding the last component, walking down without following links.
    private func openParent(_ relativePath: String) throws(ReadError) -> (Int32, String) {
        var parts = try components(relativePath)
        guard let name = parts.popLast() else { throw .notRegularFile }
        return (try openDirectory(parts), name)
    }

    private func openDirectory(_ parts: [String]) throws(ReadError) -> Int32 {
        // The root itself is the user's choice and may be a symlink; nothing below it may.
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw Self.error(errno) }
        for part in parts {
            let next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(fd)
            if next < 0 { throw Self.error(code == ELOOP ? ENOTDIR : code) }
            fd = next
        }
        return fd
    }

    private static func error(_ code: Int32) -> ReadError {
        switch code {
        case ENOENT: return .notFound
        case ELOOP: return .notRegularFile
        default: return .failed(String(cString: strerror(code)))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The mutable state of one scan: confined to the thread running `Scanner.scan`.
final class ScanWalker {
    let scanner: Scanner
    let previous: Manifest?
    var entries: [ManifestEntry] = []
    var excluded: [ScanExclusion] = []
    var warnings: [ScanWarning] = []
    var stats = ScanStats()
    /// The one read buffer all hashing uses.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ContentHasher.chunkSize, alignment: 4096)

    init(scanner: Scanner, previous: Manifest?) {
        self.scanner = scanner
        self.previous = previous
        if let previous { entries.reserveCapacity(previous.count) }
    }

    func release() { buffer.deallocate() }

    /// Where the previous manifest's next entry is expected (the walk runs in nearly sorted order).
    private var cursor = 0

    /// The previous manifest's entry at `path`: checks the cursor first, else binary search.
    func previousEntry(_ path: String) -> ManifestEntry? {
        guard let previous else { return nil }
        if cursor < previous.entries.count && previous.entries[cursor].path == path {
            cursor += 1
            return previous.entries[cursor - 1]
        }
        guard let index = previous.index(of: path) else { return nil }
        cursor = index + 1
        return previous.entries[index]
    }

    func result() -> ScanResult {
        entries.sort { RelativePath.precedes($0.path, $1.path) }
        return ScanResult(manifest: Manifest(sortedUnchecked: entries), excluded: excluded, warnings: warnings, stats: stats)
    }

    // MARK: Trees

    /// Descends to a tree's parent through real directories only, then visits the tree root.
    func scanTree(_ tree: String, rootfd: CInt) throws(ScanError) {
        let components = tree.split(separator: "/").map(String.init)
        var dirfd = rootfd
        defer { if dirfd != rootfd { Sys.closeQuietly(dirfd) } }
        var walked = ""
        for component in components.dropLast() {
            walked += walked.isEmpty ? component : "/" + component
            let status: FileStatus
            switch Sys.lstatAt(dirfd, component) {
            case .failure(.noSuchFileOrDirectory):
                warnings.append(ScanWarning(path: tree, code: .treeMissing, keptPrevious: false))
                return
            case .failure(let errno): throw ScanError(code: .treeUnreadable(errno), path: walked)
            case .success(let st): status = st
            }
            if status.kind == .symlink { throw ScanError(code: .symlinkInTreePath, path: walked) }
            if status.kind != .directory { throw ScanError(code: .notADirectory, path: walked) }
            let next: CInt
            switch Sys.openDirectory(dirfd, component) {
            case .failure(.tooManySymbolicLinkLevels): throw ScanError(code: .symlinkInTreePath, path: walked)
            case .failure(let errno): throw ScanError(code: .treeUnreadable(errno), path: walked)
            case .success(let fd): next = fd
            }
            if dirfd != rootfd { Sys.closeQuietly(dirfd) }
            dirfd = next
        }
        let name = components.last!
        switch Sys.lstatAt(dirfd, name) {
        case .failure(.noSuchFileOrDirectory):
            warnings.append(ScanWarning(path: tree, code: .treeMissing, keptPrevious: false))
        case .failure(let errno): throw ScanError(code: .treeUnreadable(errno), path: tree)
        case .success(let status):
            if status.kind == .symlink { throw ScanError(code: .symlinkInTreePath, path: tree) }
            visit(dirfd: dirfd, name: name, path: tree, status: status)
        }
    }

    // MARK: Entries

    /// Reads the children of the open directory `fd` (adopted and closed here).
    func walkDirectory(fd: CInt, path: String) {
        let stream: DirectoryStream
        do { stream = try DirectoryStream(adopting: fd) } catch {
            unreadableDirectory(path, error)
            return
        }
        // Stat every child first, then visit them in name order: the walk then produces
        // nearly sorted entries (cheap final sort) and meets the previous manifest in order.
        var children: [(name: String, status: FileStatus)] = []
        let readError = stream.forEachName { name in
            guard let child = String(validatingCString: name) else {
                warnings.append(ScanWarning(path: path + "/" + String(decoding: UnsafeRawBufferPointer(start: name, count: strlen(name)), as: UTF8.self), code: .invalidName, keptPrevious: false))
                return
            }
            switch Sys.lstatAt(stream.fd, name) {
            case .failure(.noSuchFileOrDirectory): return  // deleted since readdir: gone
            case .failure(let errno): keepPrevious(path + "/" + child, .unreadable(errno))
            case .success(let status): children.append((child, status))
            }
        }
        children.sort { RelativePath.precedes($0.name, $1.name) }
        for child in children {
            child.name.withCString { visit(dirfd: stream.fd, name: $0, path: path + "/" + child.name, status: child.status) }
        }
        if let readError { warnings.append(ScanWarning(path: path, code: .unreadable(readError), keptPrevious: false)) }
    }

    /// Records one entry (and descends into directories) unless the filter excludes it.
    func visit(dirfd: CInt, name: UnsafePointer<CChar>, path: String, status: FileStatus) {
        let isDirectory = status.kind == .directory
        let decision = scanner.filter.decide(path, isDirectory: isDirectory)
        guard decision.included else {
            excluded.append(ScanExclusion(path: path, isDirectory: isDirectory, decision: decision))
            return
        }
        switch status.kind {
        case .directory:
            _ = previousEntry(path)  // keeps the lookup cursor in step
            entries.append(ManifestEntry(
                path: path, kind: .directory, mode: status.mode, uid: status.uid, gid: status.gid,
                mtimeNs: status.mtimeNs, ctimeNs: status.ctimeNs, inode: status.inode, device: status.device))
            stats.directories += 1
            switch Sys.openDirectory(dirfd, name) {
            case .failure(let errno): unreadableDirectory(path, errno)
            case .success(let fd): walkDirectory(fd: fd, path: path)
            }
        case .symlink:
            switch Sys.readLink(dirfd, name, expectedSize: Int(status.size)) {
            case .failure(.noSuchFileOrDirectory): return
            case .failure(let errno): keepPrevious(path, .unreadable(errno))
            case .success(let raw):
                guard let target = String(validating: raw, as: UTF8.self), !raw.isEmpty else {
                    warnings.append(ScanWarning(path: path, code: .invalidName, keptPrevious: false))
                    return
                }
                entries.append(ManifestEntry(
                    path: path, kind: .symlink, size: Int64(raw.count), mode: status.mode, uid: status.uid,
                    gid: status.gid, mtimeNs: status.mtimeNs, symlinkTarget: target,
                    ctimeNs: status.ctimeNs, inode: status.inode, device: status.device))
                stats.symlinks += 1
            }
        case .regular:
            scanFile(dirfd: dirfd, name: name, path: path, status: status)
        default:
            warnings.append(ScanWarning(path: path, code: .specialFileSkipped, keptPrevious: false))
        }
    }

    /// A directory whose listing cannot be read: keeps what the previous scan saw inside it.
    func unreadableDirectory(_ path: String, _ errno: Errno) {
        let kept = previous?.entries(inside: path) ?? []
        entries.append(contentsOf: kept)
        warnings.append(ScanWarning(path: path, code: .unreadable(errno), keptPrevious: !kept.isEmpty))
    }

    /// Keeps the previous manifest's entry for `path`, if any, and warns.
    func keepPrevious(_ path: String, _ code: ScanWarning.Code) {
        let old = previous?.entry(at: path)
        if let old {
            entries.append(old)
            if old.kind == .file { stats.files += 1; stats.bytes += old.size }
        }
        warnings.append(ScanWarning(path: path, code: code, keptPrevious: old != nil))
    }
}

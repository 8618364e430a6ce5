#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import TreeDiff

/// Writes inside the mirrored trees of a replica without ever following a symlink inside them.
///
/// Every operation names a root-relative path. The tree root's ancestors (`var`, `var/cloudmin`)
/// belong to the host's own layout: they are created when missing and may be symlinks (a host
/// may link `/var` elsewhere). From the tree root down, every component is opened with
/// `O_NOFOLLOW`, so a directory replaced by a symlink is an error, never a way out of the tree.
final class TreeWriter {
    let root: String
    /// Root-relative tree roots, e.g. `etc/webmin/server-manager`.
    let trees: [String]

    init(root: String, trees: [String]) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.trees = trees
    }

    /// The tree holding `path`, if any.
    func tree(of path: String) -> String? {
        trees.first { path == $0 || RelativePath.isInside(path, ancestor: $0) }
    }

    private func hostPath(_ relative: String) -> String {
        (root == "/" ? "" : root) + "/" + relative
    }

    /// Opens the directory that holds `path`'s last component and runs `body(dirfd, name)`.
    /// - Throws: `ReplicaError` `.outsideTrees` for a path in no tree, `.symlinkInPath` when a
    ///   component inside the tree is not a real directory; `Errno` otherwise.
    func withParent<R>(of path: String, _ body: (CInt, String) throws -> R) throws -> R {
        guard let tree = tree(of: path) else { throw ReplicaError(.outsideTrees, path: path) }
        let treeParent = RelativePath.parent(of: tree)
        let hostParent = treeParent.map(hostPath) ?? (root.isEmpty ? "/" : root)
        var fd = try openHostCreating(hostParent)
        // Components from the tree root down to the parent of `path`, opened without following.
        let inside = treeParent.map { String(path.dropFirst($0.count + 1)) } ?? path
        var components = inside.split(separator: "/").map(String.init)
        let name = components.removeLast()
        for component in components {
            let next: CInt
            do { next = try TreeSys.openDirectory(fd, component) } catch {
                TreeSys.close(fd)
                if error == .tooManySymbolicLinkLevels || error == .notDirectory {
                    throw ReplicaError(.symlinkInPath, path: path, detail: "`\(component)` is not a directory")
                }
                throw error
            }
            TreeSys.close(fd)
            fd = next
        }
        defer { TreeSys.close(fd) }
        return try body(fd, name)
    }

    /// Opens a host directory above a tree, creating it (and its parents, mode 0755) when missing.
    private func openHostCreating(_ path: String) throws -> CInt {
        if let fd = try? TreeSys.openHostDirectory(path) { return fd }
        try makeHostDirectories(path)
        return try TreeSys.openHostDirectory(path)
    }

    /// `mkdir -p` for the host's layout above a tree (mode 0755).
    private func makeHostDirectories(_ path: String) throws {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Errno(rawValue: errno) }
        }
    }

    /// Opens the directory `directory` itself: a path inside a tree (opened without following
    /// symlinks) or the host directory above a tree root (`nil` tree-relative path).
    func withDirectory<R>(_ directory: StagingDirectory, _ body: (CInt) throws -> R) throws -> R {
        switch directory {
        case .inTree(let path):
            return try withParent(of: path) { dirfd, name in
                let fd: CInt
                do { fd = try TreeSys.openDirectory(dirfd, name) } catch let error as Errno {
                    if error == .tooManySymbolicLinkLevels || error == .notDirectory {
                        throw ReplicaError(.symlinkInPath, path: path, detail: "not a directory")
                    }
                    throw error
                }
                defer { TreeSys.close(fd) }
                return try body(fd)
            }
        case .aboveTree(let tree):
            let host = RelativePath.parent(of: tree).map(hostPath) ?? (root.isEmpty ? "/" : root)
            let fd = try openHostCreating(host)
            defer { TreeSys.close(fd) }
            return try body(fd)
        }
    }

    /// What is at `path` now (`lstat`), nil when nothing.
    func status(_ path: String) throws -> stat? {
        try withParent(of: path) { dirfd, name in try TreeSys.lstat(dirfd, name) }
    }

    /// Removes `path` and, for a directory, everything inside, never following symlinks.
    /// Nothing to do when a directory on the way is gone or is no longer a directory (a
    /// replayed journal removed or replaced it already).
    /// - Parameter onlyIf: remove only when the entry there is of this kind (journal replay).
    func remove(_ path: String, onlyIf kind: EntryKind? = nil) throws {
        do {
            try removeInParent(path, onlyIf: kind)
        } catch let error as ReplicaError where error.code == .symlinkInPath {
            return
        } catch let error as Errno where error == .noSuchFileOrDirectory {
            return
        }
    }

    private func removeInParent(_ path: String, onlyIf kind: EntryKind?) throws {
        try withParent(of: path) { dirfd, name in
            guard let st = try TreeSys.lstat(dirfd, name) else { return }
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            if let kind {
                let actual: EntryKind = isDir ? .directory : (st.st_mode & S_IFMT == S_IFLNK ? .symlink : .file)
                guard actual == kind else { return }
            }
            if isDir { try Self.removeContents(dirfd, name) }
            try TreeSys.unlink(dirfd, name, directory: isDir)
        }
    }

    private static func removeContents(_ parent: CInt, _ name: String) throws {
        let fd = try TreeSys.openDirectory(parent, name)
        defer { TreeSys.close(fd) }
        for child in try TreeSys.list(fd) {
            guard let st = try TreeSys.lstat(fd, child) else { continue }
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            if isDir { try removeContents(fd, child) }
            try TreeSys.unlink(fd, child, directory: isDir)
        }
    }

    /// Creates a directory (existing directories are fine) with the entry's mode.
    func makeDirectory(_ path: String, mode: UInt32) throws {
        try withParent(of: path) { dirfd, name in
            if let st = try TreeSys.lstat(dirfd, name) {
                guard st.st_mode & S_IFMT == S_IFDIR else {
                    throw ReplicaError(.unexpectedEntry, path: path, detail: "something other than a directory is in the way")
                }
                return
            }
            try TreeSys.mkdir(dirfd, name, mode: mode_t(mode & 0o7777))
        }
    }

    /// Sets mode, owner and mtime as the entry says (owner only when running as root; no mode
    /// on symlinks).
    func applyMetadata(_ entry: ManifestEntry) throws {
        try withParent(of: entry.path) { dirfd, name in
            try Self.applyMetadata(entry, dirfd, name)
        }
    }

    static func applyMetadata(_ entry: ManifestEntry, _ dirfd: CInt, _ name: String) throws {
        if TreeSys.isRoot { try TreeSys.lchown(dirfd, name, entry.uid, entry.gid) }
        if entry.kind != .symlink { try TreeSys.chmod(dirfd, name, entry.mode & 0o7777) }
        try TreeSys.setMtime(dirfd, name, ns: entry.mtimeNs)
    }

    /// Renames the staged temp into `path` (an atomic replace of a file or symlink).
    /// Returns false when the temp is gone (a replayed journal already did it).
    @discardableResult
    func renameIntoPlace(temp: String, in directory: StagingDirectory, path: String) throws -> Bool {
        try withDirectory(directory) { tempDir in
            guard try TreeSys.lstat(tempDir, temp) != nil else { return false }
            try withParent(of: path) { dirfd, name in
                try TreeSys.check(renameat(tempDir, temp, dirfd, name))
            }
            return true
        }
    }

    /// Removes a staged temp if present (rollback). Nothing to do when its directory is gone or
    /// is no longer a real directory (the temp went with it; never follow a symlink to look).
    func removeTemp(_ temp: String, in directory: StagingDirectory) throws {
        do {
            try withDirectory(directory) { dirfd in
                guard try TreeSys.lstat(dirfd, temp) != nil else { return }
                try TreeSys.unlink(dirfd, temp, directory: false)
            }
        } catch let error as Errno where error == .noSuchFileOrDirectory {
            return
        } catch let error as ReplicaError where error.code == .symlinkInPath {
            return
        }
    }

    /// fsyncs the directory holding `path`.
    func syncParent(of path: String) throws {
        try withParent(of: path) { dirfd, _ in try TreeSys.fsync(dirfd) }
    }

    /// The deepest directory that exists now on the way to `path` (where its temp is staged, on
    /// the same filesystem as its target), or the host directory above the tree.
    func stagingDirectory(for path: String, existing: (String) -> Bool) -> StagingDirectory {
        guard let tree = tree(of: path) else { return .aboveTree(path) }
        var dir = RelativePath.parent(of: path)
        while let d = dir, d.count >= tree.count {
            if existing(d) { return .inTree(d) }
            dir = RelativePath.parent(of: d)
        }
        return .aboveTree(tree)
    }

    /// The name of the temp file that stages `path`'s new version in its own directory.
    static func tempName(for path: String, generation: UInt64) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return ".cm-mirror-\(generation)-" + String(h, radix: 16)
    }
}

/// Where a new file waits before the commit renames it into place.
enum StagingDirectory: Sendable, Hashable {
    /// A directory of the live tree (root-relative path).
    case inTree(String)
    /// The host directory that holds this tree's root (the tree does not exist yet).
    case aboveTree(String)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// Walks configured trees under a mirror root into a `Manifest`.
///
/// Never follows a symlink: every entry is examined with `fstatat(AT_SYMLINK_NOFOLLOW)` relative
/// to its parent directory's descriptor and directories are opened with
/// `O_NOFOLLOW|O_DIRECTORY`. A rescan with the previous manifest reuses a file's digest when
/// its size, mtime, ctime, inode and device are unchanged, so a no-change rescan reads no data.
/// A file that changes while it is hashed is retried, then reported, never recorded torn.
public struct Scanner: Sendable {
    /// The mirror root, an absolute directory path.
    public var root: String
    /// The trees to scan, relative to `root` (e.g. `etc/webmin/server-manager`).
    public var trees: [String]
    /// Decides which paths are replicated.
    public var filter: any PathFilter
    /// How many times a file is hashed before it is reported as changing.
    public var maxAttempts = 4
    /// A file whose ctime is this recent may still be written within the same clock tick
    /// (invisible to its timestamps), so it is hashed only once it is this old.
    public var settleNanoseconds: Int64 = 30_000_000

    /// Test hook: called with the path after a file was hashed and before it is checked again.
    var afterHashHook: (@Sendable (String) -> Void)?

    /// - Parameters:
    ///   - root: the mirror root, an absolute directory path.
    ///   - trees: root-relative tree paths.
    ///   - filter: the exclusion rules (`IncludeEverything()` to keep all).
    public init(root: String, trees: [String], filter: any PathFilter = IncludeEverything()) {
        self.root = root
        self.trees = trees
        self.filter = filter
    }

    /// Scans the trees.
    /// - Parameter previous: the last manifest of the same root, to reuse unchanged digests and
    ///   to keep entries that cannot be read now.
    /// - Returns: the manifest, exclusions, warnings and statistics.
    /// - Throws: `ScanError` when the root cannot be opened or a tree path is invalid, is or
    ///   goes through a symlink, or crosses a non-directory. A missing tree is only a warning.
    public func scan(previous: Manifest? = nil) throws(ScanError) -> ScanResult {
        let rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootfd >= 0 else { throw ScanError(code: .rootUnavailable(Errno(rawValue: errno)), path: root) }
        defer { Sys.closeQuietly(rootfd) }
        let walker = ScanWalker(scanner: self, previous: previous)
        defer { walker.release() }
        for tree in try normalizedTrees() {
            try walker.scanTree(tree, rootfd: rootfd)
        }
        return walker.result()
    }

    /// Validated trees, without duplicates and without trees nested in another tree.
    func normalizedTrees() throws(ScanError) -> [String] {
        for tree in trees {
            do { try RelativePath.validate(tree) } catch { throw ScanError(code: .invalidTreePath(error.code), path: tree) }
        }
        let sorted = Set(trees).sorted(by: RelativePath.precedes)
        return sorted.filter { tree in !sorted.contains { RelativePath.isInside(tree, ancestor: $0) } }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A cheap summary of the status collection's state: when it was last written and how many
/// entries it holds (so deletions count as changes too).
public struct CollectionStamp: Sendable, Hashable {
    /// Newest modification time seen, in nanoseconds since the epoch.
    public var newestModification: Int64
    /// Entries counted (the directory itself included).
    public var entries: Int

    public init(newestModification: Int64, entries: Int) {
        self.newestModification = newestModification
        self.entries = entries
    }
}

/// Looks at what the status collection writes: the configured marker file, or else the
/// collected-status directory, its entries and one level below them (`collected/<id>` may be a
/// file or a directory). Uses `lstat` only: no file is read, no symlink followed.
public enum CollectionProbe {
    /// The stamp of the collection watched by `context` (marker file or collected directory).
    /// - Returns: nil when the watched path does not exist.
    public static func stamp(_ context: MirrorContext) -> CollectionStamp? {
        if let marker = context.config.collectionMarker {
            return stamp(path: context.paths.host(marker), depth: 0)
        }
        return stamp(path: context.paths.host(context.config.collectedDir), depth: 2)
    }

    /// The stamp of `path` and, when it is a directory, of its entries down to `depth` levels.
    /// Wraps `lstat`, `opendir`, `readdir`.
    public static func stamp(path: String, depth: Int) -> CollectionStamp? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        var result = CollectionStamp(newestModification: modification(st), entries: 1)
        if depth > 0, (st.st_mode & S_IFMT) == S_IFDIR {
            walk(path, depth: depth, into: &result)
        }
        return result
    }

    private static func walk(_ dir: String, depth: Int, into result: inout CollectionStamp) {
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }  // removed meanwhile: the dir mtime shows it
            result.entries += 1
            result.newestModification = max(result.newestModification, modification(st))
            if depth > 1, (st.st_mode & S_IFMT) == S_IFDIR { walk(path, depth: depth - 1, into: &result) }
        }
    }

    private static func modification(_ st: stat) -> Int64 {
        Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }
}

import SystemPackage

/// What a scan found: the manifest plus everything it left out and why.
public struct ScanResult: Sendable {
    /// The scanned trees.
    public var manifest: Manifest
    /// Paths a filter rule excluded (an excluded directory's contents are not listed).
    public var excluded: [ScanExclusion]
    /// Entries skipped or kept from the previous manifest, with the reason.
    public var warnings: [ScanWarning]
    /// Counts and byte totals.
    public var stats: ScanStats
}

/// A path a `PathFilter` excluded, and the rule that did it.
public struct ScanExclusion: Sendable, Hashable {
    public var path: String
    public var isDirectory: Bool
    public var decision: FilterDecision
}

/// Something a scan could not record as it is on disk.
public struct ScanWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A socket, fifo or device node: not replicated.
        case specialFileSkipped
        /// The file or directory could not be read (`open`, `read` or `readdir` failed).
        case unreadable(Errno)
        /// The file kept changing while being hashed (after all retries).
        case changedDuringRead
        /// A configured tree does not exist under the root.
        case treeMissing
        /// A name that is not valid UTF-8 (such paths cannot be replicated).
        case invalidName
    }
    /// The root-relative path concerned.
    public var path: String
    public var code: Code
    /// Whether the previous manifest's entry (or subtree) was kept in place of the current state.
    public var keptPrevious: Bool

    public var description: String {
        let kept = keptPrevious ? "; kept the previous scan's entry" : ""
        switch code {
        case .specialFileSkipped: return "\(path): socket, fifo or device skipped (not replicated)"
        case .unreadable(let errno): return "\(path): cannot be read (\(errno))\(kept); fix its permissions or exclude it"
        case .changedDuringRead: return "\(path): kept changing while being read\(kept); it will be retried on the next run"
        case .treeMissing: return "\(path): tree does not exist under the root; nothing to replicate there"
        case .invalidName: return "\(path): name is not valid UTF-8, skipped; rename it to replicate it"
        }
    }
}

/// Counts and byte totals of a scan.
public struct ScanStats: Sendable, Hashable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    /// Total size of the files recorded.
    public var bytes: Int64 = 0
    /// Files whose data was read and hashed (the others reused the previous digest).
    public var filesHashed = 0
    /// Bytes actually read to hash files.
    public var bytesHashed: Int64 = 0

    public init() {}
}

/// A scan that could not run.
public struct ScanError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The mirror root cannot be opened.
        case rootUnavailable(Errno)
        /// A configured tree path is not a valid root-relative path.
        case invalidTreePath(RelativePathError.Code)
        /// A configured tree is a symlink or lies below one.
        case symlinkInTreePath
        /// A component of a configured tree path is not a directory.
        case notADirectory
        /// A configured tree (or one of its parents) cannot be opened.
        case treeUnreadable(Errno)
    }
    public var code: Code
    /// The root, or the root-relative path concerned.
    public var path: String

    public var description: String {
        switch code {
        case .rootUnavailable(let errno): "mirror root '\(path)' cannot be opened (\(errno)); check --root"
        case .invalidTreePath: "tree '\(path)' is not a valid path relative to the mirror root; fix the tree list"
        case .symlinkInTreePath: "'\(path)' is a symlink: trees are never scanned through symlinks; configure the real path"
        case .notADirectory: "'\(path)' is not a directory; fix the tree list"
        case .treeUnreadable(let errno): "tree '\(path)' cannot be opened (\(errno)); check its permissions"
        }
    }
}

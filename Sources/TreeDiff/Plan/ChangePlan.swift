/// The ordered operations that turn a replica's tree into the master's.
///
/// Order (each phase in manifest order unless said otherwise):
/// 1. deletions blocking the master's tree (kind changes), children before parents;
/// 2. directories to create, parents first;
/// 3. new files, changed files and symlinks;
/// 4. metadata-only changes of files and symlinks;
/// 5. the remaining deletions, children before parents (after step 3, so a moved file's old
///    path can still serve as its `localCopySource`);
/// 6. directory metadata, deepest first, after all their contents changed.
public struct ChangePlan: Sendable, Hashable {
    /// The operations in the order they must be applied.
    public var items: [ChangeItem]

    /// Counts and byte totals of a plan.
    public struct Summary: Sendable, Hashable, CustomStringConvertible {
        public var directoriesCreated = 0
        public var newFiles = 0
        /// New files copied from another replica path instead of being sent.
        public var localCopies = 0
        public var changedFiles = 0
        public var symlinks = 0
        public var metadataOnly = 0
        public var deletions = 0
        public var directoryMetadata = 0
        /// Bytes of new files that must be sent (local copies excluded).
        public var bytesNew: Int64 = 0
        /// Bytes of new files copied locally on the replica.
        public var bytesLocalCopy: Int64 = 0
        /// Full size of the changed files (what a delta transfer starts from).
        public var bytesChanged: Int64 = 0

        public init() {}

        public var description: String {
            "\(newFiles) new (\(localCopies) local copies), \(changedFiles) changed, \(metadataOnly) metadata-only, "
                + "\(symlinks) symlinks, \(directoriesCreated) dirs created, \(deletions) deleted; "
                + "\(bytesNew) bytes new, \(bytesChanged) bytes changed, \(bytesLocalCopy) bytes copied locally"
        }
    }

    /// Totals over `items`.
    public var summary: Summary {
        var s = Summary()
        for item in items {
            switch item.action {
            case .createDirectory: s.directoriesCreated += 1
            case .delete: s.deletions += 1
            case .newFile(let source):
                s.newFiles += 1
                if source != nil { s.localCopies += 1; s.bytesLocalCopy += item.entry?.size ?? 0 } else { s.bytesNew += item.entry?.size ?? 0 }
            case .changedFile:
                s.changedFiles += 1
                s.bytesChanged += item.entry?.size ?? 0
            case .symlink: s.symlinks += 1
            case .metadata: s.metadataOnly += 1
            case .directoryMetadata: s.directoryMetadata += 1
            }
        }
        return s
    }

    /// Whether the replica already matches the master.
    public var isEmpty: Bool { items.isEmpty }

    /// The rsync-style itemized lines, one per item.
    public var itemizedLines: [String] { items.map(\.itemized) }

    public init(items: [ChangeItem]) {
        self.items = items
    }
}

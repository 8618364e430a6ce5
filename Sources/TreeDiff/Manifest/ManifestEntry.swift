/// What a manifest entry is.
public enum EntryKind: String, Sendable, Hashable, Codable {
    case file, directory, symlink
}

/// One file, directory or symlink of a scanned tree.
///
/// The replicated fields (path, kind, size, mode, owner, mtime, symlink target, digest) describe
/// the tree and make up the tree digest. `extents` records how a sparse file is laid out so a
/// replica can recreate its holes; `ctimeNs`, `inode` and `device` are the master's local
/// quick-check fields (zero on a replica). Neither is part of the tree digest.
public struct ManifestEntry: Sendable, Hashable, Codable {
    /// Path relative to the mirror root, e.g. `etc/webmin/server-manager/12.serv`.
    public var path: String
    public var kind: EntryKind
    /// Size in bytes: the content length of a file, the target length of a symlink, 0 for a directory.
    public var size: Int64
    /// Permission bits including setuid, setgid and sticky (`st_mode & 07777`).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNs: Int64
    /// The target of a symlink, verbatim (never followed); nil for other kinds.
    public var symlinkTarget: String?
    /// Data extents of a file with holes; empty for a dense file and for other kinds;
    /// `[DataExtent.allHole]` for a file that is entirely a hole.
    public var extents: [DataExtent]
    /// The content digest of a file; nil for directories and symlinks.
    public var digest: ContentDigest?
    /// Local quick-check: status change time in nanoseconds (0 when unknown).
    public var ctimeNs: Int64
    /// Local quick-check: inode number (0 when unknown).
    public var inode: UInt64
    /// Local quick-check: device number (0 when unknown).
    public var device: UInt64

    public init(
        path: String, kind: EntryKind, size: Int64 = 0, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0,
        mtimeNs: Int64, symlinkTarget: String? = nil, extents: [DataExtent] = [], digest: ContentDigest? = nil,
        ctimeNs: Int64 = 0, inode: UInt64 = 0, device: UInt64 = 0
    ) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtimeNs = mtimeNs
        self.symlinkTarget = symlinkTarget
        self.extents = extents
        self.digest = digest
        self.ctimeNs = ctimeNs
        self.inode = inode
        self.device = device
    }

    /// Modification time split as `timespec` fields.
    public var mtime: (seconds: Int64, nanoseconds: Int32) {
        let seconds = mtimeNs >= 0 ? mtimeNs / 1_000_000_000 : (mtimeNs - 999_999_999) / 1_000_000_000
        return (seconds, Int32(mtimeNs - seconds * 1_000_000_000))
    }

    /// The entry without its local-only fields (ctime, inode, device), as a replica records it.
    public var replicated: ManifestEntry {
        var copy = self
        copy.ctimeNs = 0
        copy.inode = 0
        copy.device = 0
        return copy
    }

    /// Whether the replicated fields (what the tree digest covers) are equal.
    public func sameReplicatedFields(as other: ManifestEntry) -> Bool {
        path == other.path && kind == other.kind && size == other.size && mode == other.mode
            && uid == other.uid && gid == other.gid && mtimeNs == other.mtimeNs
            && symlinkTarget == other.symlinkTarget && digest == other.digest
    }
}

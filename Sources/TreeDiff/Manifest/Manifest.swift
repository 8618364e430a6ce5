import Crypto

/// The complete, sorted description of the trees a scan covered.
///
/// Entries are sorted by their path's UTF-8 bytes (so a parent precedes its children) and
/// paths are unique. Lookups are binary searches; nothing is indexed eagerly.
public struct Manifest: Sendable, Hashable {
    /// All entries in manifest order.
    public private(set) var entries: [ManifestEntry]

    /// An empty manifest (a replica that holds nothing yet).
    public static let empty = Manifest(sortedUnchecked: [])

    /// Creates a manifest from entries in any order.
    /// - Parameter entries: the entries; they are sorted here.
    /// - Throws: `ManifestError` with `.invalidPath`, `.duplicatePath` or `.invalidEntry`.
    public init(entries: [ManifestEntry]) throws(ManifestError) {
        let sorted = entries.sorted { RelativePath.precedes($0.path, $1.path) }
        for (index, entry) in sorted.enumerated() {
            if !RelativePath.isValid(entry.path) { throw ManifestError(code: .invalidPath, detail: entry.path) }
            if index > 0 && sorted[index - 1].path == entry.path { throw ManifestError(code: .duplicatePath, detail: entry.path) }
            if let problem = Self.problem(in: entry) { throw ManifestError(code: .invalidEntry, detail: "\(entry.path): \(problem)") }
        }
        self.entries = sorted
    }

    /// Entries already sorted, unique and valid (the scanner and the decoder).
    init(sortedUnchecked entries: [ManifestEntry]) {
        self.entries = entries
    }

    /// The number of entries.
    public var count: Int { entries.count }

    /// The position of `path` in `entries`, by binary search.
    public func index(of path: String) -> Int? {
        let position = lowerBound(path)
        return position < entries.count && entries[position].path == path ? position : nil
    }

    /// The entry at `path`, if the manifest holds one.
    public func entry(at path: String) -> ManifestEntry? {
        index(of: path).map { entries[$0] }
    }

    /// The entry at `path`, if the manifest holds one.
    public subscript(path: String) -> ManifestEntry? { entry(at: path) }

    /// The entries strictly inside directory `path` (its whole subtree, not the directory itself).
    public func entries(inside path: String) -> [ManifestEntry] {
        let prefix = path + "/"
        var result: [ManifestEntry] = []
        var position = lowerBound(prefix)
        while position < entries.count && entries[position].path.utf8.starts(with: prefix.utf8) {
            result.append(entries[position])
            position += 1
        }
        return result
    }

    /// Maps each file content digest to the paths holding it, in manifest order.
    public func pathsByDigest() -> [ContentDigest: [String]] {
        var index: [ContentDigest: [String]] = [:]
        for entry in entries where entry.kind == .file {
            if let digest = entry.digest { index[digest, default: []].append(entry.path) }
        }
        return index
    }

    /// The manifest without local-only fields, as a replica stores it.
    public var replicated: Manifest {
        Manifest(sortedUnchecked: entries.map(\.replicated))
    }

    /// Total size of all files.
    public var totalFileBytes: Int64 {
        entries.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) }
    }

    /// SHA-256 of the canonical encoding of every entry's replicated fields (not extents,
    /// ctime, inode, device), so a master and a replica holding the same tree agree.
    /// Computed on each call (linear in the entries).
    public var treeDigest: ContentDigest {
        var hasher = SHA256()
        var writer = ByteWriter()
        writer.bytes(Array("cmtree1".utf8))
        writer.varint(UInt64(entries.count))
        for entry in entries {
            writer.string(entry.path)
            writer.byte(entry.kind.code)
            writer.varint(UInt64(entry.mode))
            writer.varint(UInt64(entry.uid))
            writer.varint(UInt64(entry.gid))
            writer.signed(entry.mtimeNs)
            writer.signed(entry.size)
            switch entry.kind {
            case .file: entry.digest?.withUnsafeBytes { writer.bytes($0) }
            case .symlink: writer.string(entry.symlinkTarget ?? "")
            case .directory: break
            }
            if writer.buffer.count >= 64 << 10 {
                writer.buffer.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                writer.buffer.removeAll(keepingCapacity: true)
            }
        }
        writer.buffer.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return ContentDigest(bytes: Array(hasher.finalize()))!
    }

    private func lowerBound(_ path: String) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if RelativePath.precedes(entries[mid].path, path) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// What is inconsistent in an entry, or nil.
    static func problem(in entry: ManifestEntry) -> String? {
        if entry.mode > 0o7777 { return "mode above 07777" }
        if entry.size < 0 { return "negative size" }
        switch entry.kind {
        case .file:
            if entry.digest == nil { return "file without digest" }
            if entry.symlinkTarget != nil { return "file with symlink target" }
            var end: Int64 = 0
            if entry.extents == [DataExtent.allHole] { return entry.size > 0 ? nil : "empty file marked all hole" }
            for extent in entry.extents {
                if extent.length <= 0 || extent.offset < end || extent.offset > entry.size - extent.length {
                    return "extents out of order or beyond the size"
                }
                end = extent.end
            }
        case .directory:
            if entry.digest != nil || entry.symlinkTarget != nil || !entry.extents.isEmpty || entry.size != 0 {
                return "directory with file or symlink fields"
            }
        case .symlink:
            guard let target = entry.symlinkTarget, !target.isEmpty, !target.utf8.contains(0) else { return "symlink without valid target" }
            if entry.digest != nil || !entry.extents.isEmpty { return "symlink with file fields" }
            if entry.size != Int64(target.utf8.count) { return "symlink size differs from its target length" }
        }
        return nil
    }
}

extension EntryKind {
    /// The one-byte code in encodings.
    var code: UInt8 {
        switch self {
        case .file: 0
        case .directory: 1
        case .symlink: 2
        }
    }

    init?(code: UInt8) {
        switch code {
        case 0: self = .file
        case 1: self = .directory
        case 2: self = .symlink
        default: return nil
        }
    }
}

extension Manifest: Codable {
    private enum CodingKeys: String, CodingKey {
        case formatVersion, treeDigest, entries
    }

    /// JSON form for machines: `{"formatVersion": 1, "treeDigest": "<hex>", "entries": [...]}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(treeDigest, forKey: .treeDigest)
        try container.encode(entries, forKey: .entries)
    }

    /// Decodes the JSON form, validating entries as `init(entries:)` does (`treeDigest` is
    /// recomputed, not trusted).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(UInt16.self, forKey: .formatVersion)
        guard version == Self.formatVersion else { throw ManifestError(code: .unsupportedVersion(version)) }
        try self.init(entries: container.decode([ManifestEntry].self, forKey: .entries))
    }
}

/// Which metadata fields of an entry differ.
public struct MetadataChanges: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let mode = MetadataChanges(rawValue: 1 << 0)
    public static let owner = MetadataChanges(rawValue: 1 << 1)
    public static let group = MetadataChanges(rawValue: 1 << 2)
    public static let mtime = MetadataChanges(rawValue: 1 << 3)

    /// The differences between a replica's entry and the master's.
    public static func between(_ old: ManifestEntry, _ new: ManifestEntry) -> MetadataChanges {
        var changes: MetadataChanges = []
        if old.mode != new.mode { changes.insert(.mode) }
        if old.uid != new.uid { changes.insert(.owner) }
        if old.gid != new.gid { changes.insert(.group) }
        if old.mtimeNs != new.mtimeNs { changes.insert(.mtime) }
        return changes
    }
}

/// One operation of a `ChangePlan`.
public struct ChangeItem: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        /// Create a directory (its final metadata is set by a later `.directoryMetadata`).
        case createDirectory
        /// Remove the replica's entry of this kind (a directory is already empty by then).
        case delete(EntryKind)
        /// A file the replica lacks; `localCopySource` is a replica path already holding the
        /// same content, to copy locally instead of sending the data.
        case newFile(localCopySource: String?)
        /// A file whose content changed; `baseDigest` is the replica's version (the delta base).
        case changedFile(baseDigest: ContentDigest)
        /// A symlink to create, or to replace when `replacing` (its target changed).
        case symlink(replacing: Bool)
        /// Same content, different metadata (a file or symlink).
        case metadata(MetadataChanges)
        /// Set a directory's metadata after its contents are in place (its mtime last).
        case directoryMetadata(MetadataChanges)
    }

    /// The root-relative path.
    public var path: String
    public var action: Action
    /// The master's entry: what the path must become (nil for `.delete`).
    public var entry: ManifestEntry?
    /// The replica's entry at this path before the plan, if any.
    public var previous: ManifestEntry?

    public init(path: String, action: Action, entry: ManifestEntry?, previous: ManifestEntry?) {
        self.path = path
        self.action = action
        self.entry = entry
        self.previous = previous
    }

    /// The line rsync `--itemize-changes` would print (`>f+++++++++ path`, `*deleting   path`).
    public var itemized: String {
        func flags(_ y: Character, _ x: Character, content: Bool = false, size: Bool = false, changes: MetadataChanges? = nil) -> String {
            var f = Array(".........")
            if content { f[0] = "c" }
            if size { f[1] = "s" }
            var metadata = changes ?? []
            if changes == nil, let entry, let previous { metadata = MetadataChanges.between(previous, entry) }
            if metadata.contains(.mtime) { f[2] = "t" }
            if metadata.contains(.mode) { f[3] = "p" }
            if metadata.contains(.owner) { f[4] = "o" }
            if metadata.contains(.group) { f[5] = "g" }
            return String(y) + String(x) + String(f)
        }
        let kindLetter: Character = entry.map { $0.kind == .directory ? "d" : $0.kind == .symlink ? "L" : "f" } ?? "f"
        let shownPath = (entry?.kind ?? previous?.kind) == .directory ? path + "/" : path
        switch action {
        case .createDirectory: return "cd+++++++++ \(shownPath)"
        case .delete: return "*deleting   \(shownPath)"
        case .newFile(let source?): return "cf+++++++++ \(path) => \(source)"
        case .newFile(nil): return ">f+++++++++ \(path)"
        case .changedFile:
            return "\(flags(">", "f", content: true, size: entry?.size != previous?.size)) \(path)"
        case .symlink(let replacing):
            let target = entry?.symlinkTarget ?? ""
            return replacing ? "\(flags("c", "L", content: true)) \(path) -> \(target)" : "cL+++++++++ \(path) -> \(target)"
        case .metadata(let changes), .directoryMetadata(let changes):
            var line = "\(flags(".", kindLetter, changes: changes)) \(shownPath)"
            if kindLetter == "L" { line += " -> \(entry?.symlinkTarget ?? "")" }
            return line
        }
    }

    public var description: String { itemized }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage
import TreeDiff

/// What generation a replica holds, saved with every commit.
public struct GenerationRecord: Sendable, Hashable, Codable {
    /// 0 before the first commit.
    public var generation: UInt64
    /// The master lineage (an id made when a master starts replicating; kept across failover).
    public var lineage: String
    /// The tree digest of the generation's manifest.
    public var treeDigest: ContentDigest?
    /// When it was committed (seconds since the epoch).
    public var committedAt: Double

    public static let none = GenerationRecord(generation: 0, lineage: "", treeDigest: nil, committedAt: 0)
}

/// A replica's state directory: the generation it holds, the manifest of its live trees,
/// staged objects, and the commit journal.
///
/// Layout under `<state_dir>/replica/`: `generation.json`, `live.manifest` (with the
/// replica's own quick-check fields), `next.manifest` and `journal` during a commit,
/// `prepare.list` while temps are being staged, `objects/`.
public final class ReplicaStore {
    public let directory: String
    let root: String
    /// Root-relative trees this replica accepts.
    public let trees: [String]
    let objects: ObjectStore
    let writer: TreeWriter
    /// Where a test stops the commit (from the environment by default).
    public var crashPoint = CrashPoint.fromEnvironment()

    /// Opens (creating when missing) the replica state under `stateDirectory`.
    /// - Parameters:
    ///   - stateDirectory: the state directory on this machine (already remapped under --root).
    ///   - root: the mirror root on this machine.
    ///   - trees: root-relative tree paths.
    public init(stateDirectory: String, root: String, trees: [String]) throws {
        directory = stateDirectory + "/replica"
        self.root = root
        self.trees = trees
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        objects = try ObjectStore(directory: directory + "/objects")
        writer = TreeWriter(root: root, trees: trees)
    }

    var generationFile: String { directory + "/generation.json" }
    var liveManifestFile: String { directory + "/live.manifest" }
    var nextManifestFile: String { directory + "/next.manifest" }
    var journalFile: String { directory + "/journal" }
    var prepareFile: String { directory + "/prepare.list" }

    /// The generation held now (after finishing any interrupted commit).
    public func generation() throws -> GenerationRecord {
        guard FileManager.default.fileExists(atPath: generationFile) else { return .none }
        do {
            return try JSONDecoder().decode(GenerationRecord.self, from: Data(AtomicFile.read(generationFile, limit: 1 << 16)))
        } catch {
            throw ReplicaError(.corruptState, path: generationFile, detail: "\(error)")
        }
    }

    func saveGeneration(_ record: GenerationRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(record)), to: generationFile)
    }

    /// The manifest recorded at the last commit (with quick-check fields), or nil.
    func recordedManifest() throws -> Manifest? {
        guard FileManager.default.fileExists(atPath: liveManifestFile) else { return nil }
        return try Manifest.load(from: liveManifestFile)
    }

    /// Scans the live trees (quick check against the recorded manifest: unchanged files are not
    /// read). This is the truth a plan is made against, hand edits included.
    public func scanLive(fullRehash: Bool = false) throws -> Manifest {
        let previous = fullRehash ? nil : try? recordedManifest()
        let result = try Scanner(root: root, trees: trees).scan(previous: previous)
        return result.manifest
    }

    /// Opens content with this digest: a staged object, or a live file the recorded manifest
    /// says holds it (read without following symlinks). nil when the replica has none.
    func openContent(_ digest: ContentDigest) throws -> FileDescriptor? {
        if objects.has(digest) {
            return try FileDescriptor.open(FilePath(objects.path(digest)), .readOnly, options: [.noFollow, .closeOnExec])
        }
        guard let manifest = try recordedManifest() else { return nil }
        for path in manifest.pathsByDigest()[digest] ?? [] {
            if let fd = try? writer.withParent(of: path, { d, name in try TreeSys.openFile(d, name, flags: O_RDONLY) }) {
                return FileDescriptor(rawValue: fd)
            }
        }
        return nil
    }

    /// Free bytes on the filesystem of the first tree (or the root).
    public func freeBytes() throws -> Int64 {
        let probe = trees.first.map { RelativePath.parent(of: $0).map { root + "/" + $0 } ?? root } ?? root
        var dir = probe
        while !FileManager.default.fileExists(atPath: dir), let slash = dir.lastIndex(of: "/"), slash > dir.startIndex {
            dir = String(dir[..<slash])
        }
        let fd = try TreeSys.openHostDirectory(dir.isEmpty ? "/" : dir)
        defer { TreeSys.close(fd) }
        return try TreeSys.freeBytes(fd)
    }
}

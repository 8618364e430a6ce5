#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage
import TreeDiff

/// What a commit did.
public struct CommitOutcome: Sendable, Hashable {
    public var generation: GenerationRecord
    public var plan: ChangePlan.Summary
    /// Bytes copied from staged objects or from other live files into place.
    public var bytesPlaced: Int64
}

extension ReplicaStore {
    /// Finishes or undoes an interrupted commit, so the live trees are exactly the last
    /// committed generation or the one whose journal was written. Every replica command runs
    /// this first.
    /// - Returns: what was done: `.none`, `.rolledBack`, `.rolledForward`.
    @discardableResult
    public func recover() throws -> Recovery {
        if FileManager.default.fileExists(atPath: journalFile) {
            let journal = try Journal(decoding: try AtomicFile.read(journalFile, limit: 1 << 30), file: journalFile)
            try apply(journal)
            try finalize(journal)
            return .rolledForward
        }
        if FileManager.default.fileExists(atPath: prepareFile) {
            var mtimes: [String: Int64] = [:]
            for line in try String(decoding: AtomicFile.read(prepareFile, limit: 1 << 30), as: UTF8.self).split(separator: "\n") {
                guard let (dir, temp, mtime) = Self.decodePrepareLine(line) else { continue }
                try writer.removeTemp(temp, in: dir)
                if case .inTree(let d) = dir, let mtime { mtimes[d] = mtime }
            }
            // Adding and removing temps touched these directories: put their mtimes back.
            for (dir, mtime) in mtimes {
                try? writer.withParent(of: dir) { dirfd, name in try TreeSys.setMtime(dirfd, name, ns: mtime) }
            }
            try? FileManager.default.removeItem(atPath: nextManifestFile)
            try FileManager.default.removeItem(atPath: prepareFile)
            return .rolledBack
        }
        return .none
    }

    public enum Recovery: Sendable, Hashable { case none, rolledBack, rolledForward }

    /// Moves the live trees to the generation `manifest` describes, or leaves them as they are.
    ///
    /// Stages every new file and symlink as a temp beside its target (from staged objects or
    /// from files the replica already holds, verifying digests), writes the journal (the commit
    /// point), then applies it. A crash at any point is repaired by `recover()`.
    /// - Parameters:
    ///   - manifest: the new generation's manifest, from the master.
    ///   - generation: its number; must be above the one held unless it is the same lineage's
    ///     same content.
    ///   - lineage: the master lineage it belongs to.
    ///   - fullRehash: read every live file instead of trusting unchanged size/mtime/ctime, so
    ///     corruption that left those alone is found and repaired (`verify --repair`).
    /// - Throws: `ReplicaError` `.missingContent` (with the digests in `detail`), `.noSpace`,
    ///   `.outsideTrees`, `.badPlan`, `.digestMismatch`, `.symlinkInPath`, `.wrongGeneration`
    ///   (an older generation, other content under the held number, or another lineage); nothing is changed
    ///   in the live trees when it throws before the commit point.
    public func commit(_ manifest: Manifest, generation: UInt64, lineage: String, fullRehash: Bool = false) throws -> CommitOutcome {
        try recover()
        let held = try self.generation()
        if held.generation > 0 {
            guard lineage == held.lineage,
                  generation > held.generation || (generation == held.generation && manifest.treeDigest == held.treeDigest) else {
                throw ReplicaError(.wrongGeneration, path: "generation \(generation) of lineage \(lineage)",
                                   detail: "this replica holds generation \(held.generation) of lineage \(held.lineage)")
            }
        }
        try validate(manifest)
        let live = try scanLive(fullRehash: fullRehash)
        let plan = ChangePlan.make(from: live, to: manifest)

        // What every new file's content comes from.
        let liveByDigest = live.pathsByDigest()
        var missing: [ContentDigest] = []
        var placements: [(entry: ManifestEntry, source: ContentSource)] = []
        var linkedObjects = Set<ContentDigest>()
        var bytesToCopy: Int64 = 0
        for item in plan.items {
            guard let entry = item.entry else { continue }
            switch item.action {
            case .newFile, .changedFile:
                guard let digest = entry.digest else { throw ReplicaError(.badPlan, path: entry.path, detail: "file without digest") }
                if entry.size == 0 {
                    placements.append((entry, .empty))
                } else if objects.has(digest) {
                    let first = linkedObjects.insert(digest).inserted
                    placements.append((entry, .object(digest, link: first)))
                    if !first { bytesToCopy += entry.allocatedBytes }
                } else if let path = liveByDigest[digest]?.first {
                    placements.append((entry, .live(path)))
                    bytesToCopy += entry.allocatedBytes
                } else {
                    missing.append(digest)
                }
            case .symlink:
                placements.append((entry, .symlink))
            default:
                break
            }
        }
        if !missing.isEmpty {
            throw ReplicaError(.missingContent, path: "generation \(generation)",
                               detail: Set(missing).map(\.description).sorted().joined(separator: ","))
        }
        let free = try freeBytes()
        guard bytesToCopy < free else {
            throw ReplicaError(.noSpace, path: root, detail: "needs \(bytesToCopy) bytes, \(free) free")
        }

        // Stage temps, listing each before it exists so a rollback finds them all.
        let existingDirs = Set(live.entries.lazy.filter { $0.kind == .directory }.map(\.path))
        var prepareList = ""
        var staged: [String: (temp: String, dir: StagingDirectory)] = [:]
        for (entry, _) in placements {
            let temp = TreeWriter.tempName(for: entry.path, generation: generation)
            let dir = writer.stagingDirectory(for: entry.path, existing: { existingDirs.contains($0) })
            staged[entry.path] = (temp, dir)
            var mtime: Int64?
            if case .inTree(let d) = dir { mtime = live[d]?.mtimeNs }
            prepareList += Self.encodePrepareLine(dir, temp, mtime: mtime) + "\n"
        }
        try AtomicFile.write(Array(prepareList.utf8), to: prepareFile)
        try crashPoint.hit("prepared-list")
        var bytesPlaced: Int64 = 0
        do {
            for (entry, source) in placements {
                let (temp, dir) = staged[entry.path]!
                bytesPlaced += try stage(entry, from: source, temp: temp, in: dir)
                try crashPoint.hit("staged")
            }
            try manifest.save(to: nextManifestFile)
            // Every temp's data and metadata reach the disk before the commit point: one
            // syncfs per filesystem instead of an fsync per file.
            try TreeSys.syncFilesystems(of: [root] + trees.map { root + "/" + $0 } + [objects.directory])
        } catch where !(error is CrashPoint.Simulated) {
            // A failure (not a crash) before the commit point: take the temps out again.
            _ = try? recover()
            throw error
        }

        // The journal: removals (children first), directories (parents first), placements,
        // metadata, then directory metadata (deepest first, so parents' mtimes stay set).
        var removes: [Journal.Step] = [], mkdirs: [Journal.Step] = [], places: [Journal.Step] = []
        var metadata: [Journal.Step] = [], dirMetadata: [Journal.Step] = []
        for item in plan.items {
            switch item.action {
            case .delete(let kind):
                removes.append(.remove(path: item.path, onlyIf: manifest[item.path] == nil ? nil : kind))
            case .createDirectory:
                mkdirs.append(.makeDirectory(path: item.path, mode: item.entry?.mode ?? 0o755))
            case .newFile, .changedFile, .symlink:
                let (temp, dir) = staged[item.path]!
                places.append(.place(path: item.path, temp: temp, directory: dir))
            case .metadata:
                if let e = item.entry { metadata.append(.metadata(e)) }
            case .directoryMetadata:
                if let e = item.entry { dirMetadata.append(.metadata(e)) }
            }
        }
        dirMetadata.sort { a, b in
            guard case .metadata(let x) = a, case .metadata(let y) = b else { return false }
            return x.path.utf8.count > y.path.utf8.count
        }
        let journal = Journal(generation: generation, lineage: lineage,
                              steps: removes + mkdirs + places + metadata + dirMetadata)
        try AtomicFile.write(journal.encoded(), to: journalFile)
        try crashPoint.hit("journal-written")
        try apply(journal)
        try finalize(journal)
        return CommitOutcome(generation: try self.generation(), plan: plan.summary, bytesPlaced: bytesPlaced)
    }

    /// Checks that every path of an incoming manifest is inside this replica's trees, that
    /// every tree root present is a directory, and that each entry's parent is a directory of
    /// the manifest.
    func validate(_ manifest: Manifest) throws {
        var directories = Set<String>()
        for entry in manifest.entries {
            guard let tree = writer.tree(of: entry.path) else { throw ReplicaError(.outsideTrees, path: entry.path) }
            if entry.path == tree {
                guard entry.kind == .directory else { throw ReplicaError(.badPlan, path: entry.path, detail: "a tree root must be a directory") }
            } else {
                guard let parent = RelativePath.parent(of: entry.path), directories.contains(parent) else {
                    throw ReplicaError(.badPlan, path: entry.path, detail: "its directory is not in the manifest")
                }
            }
            if entry.path.split(separator: "/").last?.hasPrefix(".cm-mirror-") == true {
                throw ReplicaError(.badPlan, path: entry.path, detail: "names starting with .cm-mirror- are reserved for staging")
            }
            if entry.kind == .directory { directories.insert(entry.path) }
            if entry.kind == .file && entry.digest == nil { throw ReplicaError(.badPlan, path: entry.path, detail: "file without digest") }
        }
    }

    enum ContentSource { case empty, object(ContentDigest, link: Bool), live(String), symlink }

    /// Creates the temp for one entry with its content and metadata (synced with all the
    /// others before the journal is written).
    /// - Returns: bytes copied.
    private func stage(_ entry: ManifestEntry, from source: ContentSource, temp: String, in dir: StagingDirectory) throws -> Int64 {
        try writer.withDirectory(dir) { dirfd in
            if try TreeSys.lstat(dirfd, temp) != nil { try TreeSys.unlink(dirfd, temp, directory: false) }
            var copied: Int64 = 0
            switch source {
            case .symlink:
                try TreeSys.symlink(entry.symlinkTarget ?? "", dirfd, temp)
                try TreeWriter.applyMetadata(entry, dirfd, temp)
                return 0
            case .object(let digest, link: true):
                let objectDir = try TreeSys.openHostDirectory(objects.directory)
                defer { TreeSys.close(objectDir) }
                // A link is not a copy: check the bytes of an object this process did not
                // write and check itself (a damaged state dir, a crash before its data was on disk).
                if !objects.verified.contains(digest) {
                    let object = try TreeSys.openFile(objectDir, digest.description, flags: O_RDONLY)
                    let check = Result { try FileDigester.digest(of: FileDescriptor(rawValue: object), size: entry.size) }
                    TreeSys.close(object)
                    guard case .success(let found) = check, found.digest == digest else {
                        objects.discard(digest)
                        throw ReplicaError(.digestMismatch, path: entry.path, detail: "staged object \(digest) is damaged; it was dropped")
                    }
                }
                do {
                    try TreeSys.link(objectDir, digest.description, dirfd, temp)
                } catch .improperLink {
                    copied = try copyVerified(from: objects.path(digest), isLive: false, to: dirfd, temp, entry)
                }
            case .object(let digest, link: false):
                copied = try copyVerified(from: objects.path(digest), isLive: false, to: dirfd, temp, entry)
            case .live(let path):
                copied = try copyVerified(from: path, isLive: true, to: dirfd, temp, entry)
            case .empty:
                let fd = try TreeSys.openFile(dirfd, temp, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
                TreeSys.close(fd)
            }
            try TreeWriter.applyMetadata(entry, dirfd, temp)
            return copied
        }
    }

    /// Copies a file's data extents into a new temp, hashing on the way; a digest other than
    /// the entry's is refused and the temp removed.
    private func copyVerified(from source: String, isLive: Bool, to dirfd: CInt, _ temp: String, _ entry: ManifestEntry) throws -> Int64 {
        let input: CInt
        if isLive {
            input = try writer.withParent(of: source) { d, name in try TreeSys.openFile(d, name, flags: O_RDONLY) }
        } else {
            input = try TreeSys.openFile(AT_FDCWD, source, flags: O_RDONLY)
        }
        defer { TreeSys.close(input) }
        let output = try TreeSys.openFile(dirfd, temp, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        defer { TreeSys.close(output) }
        var hasher = ContentHasher()
        var buffer = [UInt8](repeating: 0, count: Int(min(Int64(1 << 20), max(entry.allocatedBytes, 1))))
        var position: Int64 = 0
        var copied: Int64 = 0
        while position < entry.size {
            let dataStart = try TreeSys.seek(input, position, data: true) ?? entry.size
            if dataStart > position {
                let gap = min(dataStart, entry.size) - position
                hasher.updateZeros(count: gap)
                position += gap
                continue
            }
            let holeStart = min(try TreeSys.seek(input, position, data: false) ?? entry.size, entry.size)
            while position < holeStart {
                let want = Int(min(Int64(buffer.count), holeStart - position))
                let n = try buffer.withUnsafeMutableBytes { try TreeSys.read(input, UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: position) }
                guard n > 0 else { throw ReplicaError(.digestMismatch, path: entry.path, detail: "source shorter than \(entry.size) bytes") }
                try buffer.withUnsafeBytes { raw in
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[..<n])
                    hasher.update(chunk)
                    try TreeSys.writeAll(output, chunk, at: position)
                }
                position += Int64(n)
                copied += Int64(n)
            }
        }
        try TreeSys.ftruncate(output, entry.size)
        let digest = hasher.finalize()
        guard digest == entry.digest else {
            _ = unlinkat(dirfd, temp, 0)
            throw ReplicaError(.digestMismatch, path: entry.path, detail: "staged content has \(digest)")
        }
        return copied
    }

    /// Runs every journal step; each is idempotent.
    private func apply(_ journal: Journal) throws {
        var touched = Set<String>()
        for step in journal.steps {
            switch step {
            case .remove(let path, let kind):
                try writer.remove(path, onlyIf: kind)
                if let p = RelativePath.parent(of: path), writer.tree(of: p) != nil { touched.insert(p) }
            case .makeDirectory(let path, let mode):
                try writer.makeDirectory(path, mode: mode)
                if let p = RelativePath.parent(of: path), writer.tree(of: p) != nil { touched.insert(p) }
            case .place(let path, let temp, let dir):
                try writer.renameIntoPlace(temp: temp, in: dir, path: path)
                if let p = RelativePath.parent(of: path), writer.tree(of: p) != nil { touched.insert(p) }
            case .metadata(let entry):
                try writer.applyMetadata(entry)
            }
            try crashPoint.hit("applied")
        }
        for dir in touched.sorted() {
            try? writer.withDirectory(.inTree(dir)) { try TreeSys.fsync($0) }
        }
    }

    /// Records the new generation as held: the manifest with this replica's quick-check
    /// fields, the generation record; then drops the journal. The objects it used go first.
    private func finalize(_ journal: Journal) throws {
        // Objects first: every temp is placed by now, and unlinking an object hard-linked into
        // a tree changes that file's ctime, which must not happen after it is recorded below.
        try? objects.removeAll()
        let next = try Manifest.load(from: nextManifestFile)
        var recorded: [ManifestEntry] = []
        recorded.reserveCapacity(next.count)
        for var entry in next.entries {
            if entry.kind == .file, let st = try writer.status(entry.path) {
                entry.ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
                entry.inode = UInt64(st.st_ino)
                entry.device = UInt64(st.st_dev)
            }
            recorded.append(entry)
        }
        try Manifest(entries: recorded).save(to: liveManifestFile)
        try saveGeneration(GenerationRecord(generation: journal.generation, lineage: journal.lineage,
                                            treeDigest: next.treeDigest, committedAt: Date().timeIntervalSince1970))
        try crashPoint.hit("finalized")
        try FileManager.default.removeItem(atPath: journalFile)
        try? FileManager.default.removeItem(atPath: prepareFile)
        try? FileManager.default.removeItem(atPath: nextManifestFile)
    }

    /// One prepare.list line: where the temp is, its name, and (in a tree) the directory's
    /// mtime before staging, which a rollback puts back.
    static func encodePrepareLine(_ dir: StagingDirectory, _ temp: String, mtime: Int64? = nil) -> String {
        let tail = mtime.map { "\t\($0)" } ?? ""
        switch dir {
        case .inTree(let d): return "T\t\(d)\t\(temp)" + tail
        case .aboveTree(let t): return "A\t\(t)\t\(temp)"
        }
    }

    static func decodePrepareLine(_ line: Substring) -> (StagingDirectory, String, Int64?)? {
        let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4, RelativePath.isValid(parts[1]), RelativePath.isValid(parts[2]),
              parts[2].hasPrefix(".cm-mirror-"), !parts[2].contains("/") else { return nil }
        let mtime = parts.count == 4 ? Int64(parts[3]) : nil
        return (parts[0] == "T" ? .inTree(parts[1]) : .aboveTree(parts[1]), parts[2], mtime)
    }
}

extension ManifestEntry {
    /// Bytes of data this file occupies (its extents, or its size when dense).
    var allocatedBytes: Int64 { extents.isEmpty ? size : extents.reduce(0) { $0 + $1.length } }
}

/// A test-only hook that stops a commit at its N-th step, as a crash there would.
///
/// With `CLOUDMIN_MIRROR_CRASH_AT=N` in the environment, the process kills itself with SIGKILL
/// at the N-th point it passes (counted over the whole commit, including recovery), so tests
/// can crash a real `replica serve` at every step of its journal. In-process tests set
/// `ReplicaStore.crashPoint` to throw instead, leaving the state exactly as a crash would.
public final class CrashPoint: @unchecked Sendable {
    // @unchecked: a store and its crash point are used by one commit at a time, under the
    // replica's run lock.
    public enum Action: Sendable { case kill, throwError }
    /// Thrown by `.throwError` at the chosen step.
    public struct Simulated: Error, Sendable, Hashable { public var step: Int; public var label: String }

    var remaining: Int?
    var passed = 0
    let action: Action

    public init(at step: Int?, action: Action) {
        remaining = step
        self.action = action
    }

    /// From `CLOUDMIN_MIRROR_CRASH_AT=N`, or from the number in the file named by
    /// `CLOUDMIN_MIRROR_CRASH_AT_FILE` (read once and removed, so only the next commit crashes:
    /// tests set it for a replica behind sshd), killing the process.
    public static func fromEnvironment() -> CrashPoint {
        let env = ProcessInfo.processInfo.environment
        if let file = env["CLOUDMIN_MIRROR_CRASH_AT_FILE"], let text = try? String(contentsOfFile: file, encoding: .utf8) {
            try? FileManager.default.removeItem(atPath: file)
            return CrashPoint(at: Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), action: .kill)
        }
        return CrashPoint(at: env["CLOUDMIN_MIRROR_CRASH_AT"].flatMap(Int.init), action: .kill)
    }

    /// Steps passed so far (to learn how many a commit has).
    public var stepsPassed: Int { passed }

    func hit(_ label: String) throws {
        passed += 1
        guard let n = remaining, passed == n else { return }
        switch action {
        case .kill: kill(getpid(), SIGKILL)
        case .throwError: throw Simulated(step: n, label: label)
        }
    }
}

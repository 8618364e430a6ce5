#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import TreeDiff

/// Content staged on a replica, named by content digest: `objects/<hex>` once complete and
/// verified, `objects/<hex>.part` while arriving, with `<hex>.part.progress` recording how much
/// of its data has arrived so a cut transfer resumes where it stopped.
///
/// Objects are written sparse: only their data extents are stored. They survive failed runs
/// (that is what makes the next run resend less) and are pruned after a commit uses them.
final class ObjectStore {
    let directory: String
    /// Objects completed by this process: their digest was checked as they were written, so
    /// a commit in the same session need not read them again. Objects left by an earlier
    /// process (which may have died before their data reached the disk) are checked again.
    private(set) var verified = Set<ContentDigest>()

    init(directory: String) throws {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw Errno(rawValue: errno) }
    }

    func path(_ digest: ContentDigest) -> String { "\(directory)/\(digest)" }
    func partPath(_ digest: ContentDigest) -> String { "\(directory)/\(digest).part" }
    private func progressPath(_ digest: ContentDigest) -> String { "\(directory)/\(digest).part.progress" }

    /// Whether a complete, verified object is staged.
    func has(_ digest: ContentDigest) -> Bool {
        var st = stat()
        return lstat(path(digest), &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    /// Complete objects and partial ones with the data bytes already received.
    func inventory() throws -> (complete: Set<ContentDigest>, partial: [ContentDigest: Int64]) {
        let fd = try TreeSys.openHostDirectory(directory)
        defer { TreeSys.close(fd) }
        var complete = Set<ContentDigest>()
        var partial: [ContentDigest: Int64] = [:]
        for name in try TreeSys.list(fd) {
            if name.hasSuffix(".part.progress") {
                let hex = String(name.dropLast(".part.progress".count))
                if let d = ContentDigest(hex: hex), let n = partialBytes(d) { partial[d] = n }
            } else if let d = ContentDigest(hex: name) {
                complete.insert(d)
            }
        }
        return (complete, partial)
    }

    /// Creates (or empties) the `.part` file a patched object is rebuilt into.
    func createPart(_ digest: ContentDigest) throws -> FileDescriptor {
        try FileDescriptor.open(FilePath(partPath(digest)), .readWrite,
                                options: [.create, .truncate, .noFollow, .closeOnExec], permissions: [.ownerReadWrite])
    }

    /// Data bytes of a partial object recorded as arrived, or nil when there is none.
    func partialBytes(_ digest: ContentDigest) -> Int64? {
        guard let text = try? AtomicFile.read(progressPath(digest), limit: 64) else { return nil }
        return Int64(String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace).first ?? "")
    }

    /// Starts (or resumes) receiving an object.
    /// - Parameters:
    ///   - digest: the content digest the data must have.
    ///   - size: the file's size.
    ///   - extents: where its data lies (empty = dense).
    ///   - resumeAt: data bytes the master will skip; must equal what `inventory` reported, else 0.
    func begin(_ digest: ContentDigest, size: Int64, extents: [DataExtent], resumeAt: Int64) throws -> ObjectWriter {
        let layout = DataExtent.dataRuns(of: extents, size: size)
        var flags = O_RDWR | O_CREAT
        if resumeAt == 0 { flags |= O_TRUNC }
        let fd = try TreeSys.openFile(AT_FDCWD, partPath(digest), flags: flags, mode: 0o600)
        return ObjectWriter(store: self, digest: digest, size: size, extents: layout, fd: fd, received: resumeAt)
    }

    fileprivate func recordProgress(_ digest: ContentDigest, _ received: Int64) {
        try? AtomicFile.write(Array("\(received)\n".utf8), to: progressPath(digest))
    }

    /// Makes a checked `.part` a complete object. Not synced here: the commit syncs the
    /// filesystem once before its commit point.
    func complete(_ digest: ContentDigest) throws {
        try TreeSys.check(rename(partPath(digest), path(digest)))
        _ = unlink(progressPath(digest))
        verified.insert(digest)
    }

    /// Drops a partial or complete object.
    func discard(_ digest: ContentDigest) {
        verified.remove(digest)
        _ = unlink(partPath(digest))
        _ = unlink(progressPath(digest))
        _ = unlink(path(digest))
    }

    /// Removes every object, complete or partial (after a commit, or when staging is abandoned).
    func removeAll() throws {
        let fd = try TreeSys.openHostDirectory(directory)
        defer { TreeSys.close(fd) }
        for name in try TreeSys.list(fd) { _ = unlinkat(fd, name, 0) }
        verified.removeAll()
    }

    /// Bytes the staged objects occupy on disk.
    func diskUsage() throws -> Int64 {
        let fd = try TreeSys.openHostDirectory(directory)
        defer { TreeSys.close(fd) }
        var total: Int64 = 0
        for name in try TreeSys.list(fd) {
            if let st = try TreeSys.lstat(fd, name) { total += Int64(st.st_blocks) * 512 }
        }
        return total
    }
}

/// Receives one object's data stream (the bytes of its extents, in order) into its sparse file.
final class ObjectWriter {
    let digest: ContentDigest
    let size: Int64
    let extents: [DataExtent]
    private let store: ObjectStore
    private var fd: CInt
    /// Data bytes received so far (including those of an earlier, interrupted run).
    private(set) var received: Int64
    private var sinceProgress: Int64 = 0
    private var extentIndex = 0
    private var extentOffset: Int64 = 0
    let dataBytes: Int64
    /// Hashes the content as it arrives (holes as zeros); nil for a resumed object, whose
    /// earlier bytes are read back at the end instead.
    private var hasher: ContentHasher?
    private var hashedTo: Int64 = 0

    fileprivate init(store: ObjectStore, digest: ContentDigest, size: Int64, extents: [DataExtent], fd: CInt, received: Int64) {
        self.store = store
        self.digest = digest
        self.size = size
        self.extents = extents
        self.fd = fd
        self.received = 0
        self.dataBytes = extents.reduce(0) { $0 + $1.length }
        self.hasher = received == 0 ? ContentHasher() : nil
        advance(by: received)
        self.received = received
    }

    deinit { if fd >= 0 { TreeSys.close(fd) } }

    private func advance(by n: Int64) {
        var left = n
        while left > 0, extentIndex < extents.count {
            let room = extents[extentIndex].length - extentOffset
            let step = min(room, left)
            extentOffset += step
            left -= step
            if extentOffset == extents[extentIndex].length { extentIndex += 1; extentOffset = 0 }
        }
    }

    /// Writes the next data bytes at their place in the file.
    /// - Throws: `ReplicaError.badPlan` when more data arrives than the extents hold; `Errno`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            guard extentIndex < extents.count else {
                throw ReplicaError(.badPlan, path: "object \(digest)", detail: "more data than its extents hold")
            }
            let e = extents[extentIndex]
            let step = min(Int(e.length - extentOffset), bytes.count - done)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[done..<(done + step)])
            let at = e.offset + extentOffset
            try TreeSys.writeAll(fd, piece, at: at)
            if hasher != nil {
                hasher!.updateZeros(count: at - hashedTo)
                hasher!.update(piece)
                hashedTo = at + Int64(step)
            }
            done += step
            advance(by: Int64(step))
        }
        received += Int64(bytes.count)
        sinceProgress += Int64(bytes.count)
        if sinceProgress >= 8 << 20 {
            // Data first, then the count that claims it: a resume never skips bytes not on disk.
            _ = fdatasync(fd)
            store.recordProgress(digest, received)
            sinceProgress = 0
        }
    }

    /// Ends the object: sets its size, checks its digest (computed as it arrived), makes it a
    /// complete object.
    /// - Throws: `ReplicaError.digestMismatch` (the partial data is discarded) or `.badPlan`
    ///   when data is missing.
    func finish() throws {
        defer { TreeSys.close(fd); fd = -1 }
        guard received == dataBytes else {
            throw ReplicaError(.badPlan, path: "object \(digest)", detail: "\(received) of \(dataBytes) data bytes arrived")
        }
        try TreeSys.ftruncate(fd, size)
        let found: ContentDigest
        if var hasher {
            hasher.updateZeros(count: size - hashedTo)
            found = hasher.finalize()
        } else {
            found = try FileDigester.digest(of: FileDescriptor(rawValue: fd), size: size).digest
        }
        guard found == digest else {
            store.discard(digest)
            throw ReplicaError(.digestMismatch, path: "object \(digest)", detail: "got \(found)")
        }
        try store.complete(digest)
    }

    /// Keeps what arrived for the next run (a cut link): records progress.
    func suspend() {
        guard fd >= 0 else { return }
        _ = fdatasync(fd)
        store.recordProgress(digest, received)
        TreeSys.close(fd)
        fd = -1
    }
}

import Crypto
import TreeDiff

/// The commit journal of one generation on a replica.
///
/// It is written (atomically, fsynced) only once every new file and symlink is staged as a temp
/// beside its target: that write is the commit point. Before it, recovery rolls back (removes
/// the temps); after it, recovery replays every step. Each step is idempotent, so a replay after
/// a crash in the middle of applying — or of replaying — ends in exactly the new generation.
struct Journal: Sendable, Hashable {
    enum Step: Sendable, Hashable {
        /// Remove the entry at `path` (recursively, never following symlinks); when `onlyIf`
        /// is set, only if the entry there is of that kind (a type change whose new entry may
        /// already be in place).
        case remove(path: String, onlyIf: EntryKind?)
        /// Create a directory with this mode when missing.
        case makeDirectory(path: String, mode: UInt32)
        /// Rename the staged temp into place (done already when the temp is gone).
        case place(path: String, temp: String, directory: StagingDirectory)
        /// Set mode, owner and mtime.
        case metadata(ManifestEntry)
    }

    var generation: UInt64
    var lineage: String
    var steps: [Step]

    static let magic: [UInt8] = Array("CMJ1".utf8)

    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 64 + steps.count * 48)
        w.raw(Self.magic)
        w.varint(generation)
        w.string(lineage)
        w.varint(UInt64(steps.count))
        for step in steps {
            switch step {
            case .remove(let path, let kind):
                w.u8(1); w.string(path); w.u8(kind.map(Self.kindCode) ?? 0)
            case .makeDirectory(let path, let mode):
                w.u8(2); w.string(path); w.varint(UInt64(mode))
            case .place(let path, let temp, let directory):
                w.u8(3); w.string(path); w.string(temp)
                switch directory {
                case .inTree(let d): w.u8(1); w.string(d)
                case .aboveTree(let t): w.u8(2); w.string(t)
                }
            case .metadata(let e):
                w.u8(4); w.string(e.path); w.u8(Self.kindCode(e.kind)); w.varint(UInt64(e.mode))
                w.varint(UInt64(e.uid)); w.varint(UInt64(e.gid)); w.int(Int(e.mtimeNs))
            }
        }
        w.raw(Array(SHA256.hash(data: w.bytes)))
        return w.bytes
    }

    init(generation: UInt64, lineage: String, steps: [Step]) {
        self.generation = generation
        self.lineage = lineage
        self.steps = steps
    }

    /// Decodes a journal, checking its checksum and every path.
    /// - Throws: `ReplicaError.corruptState`.
    init(decoding bytes: [UInt8], file: String) throws {
        guard bytes.count >= Self.magic.count + 32, Array(bytes.prefix(4)) == Self.magic else {
            throw ReplicaError(.corruptState, path: file, detail: "not a journal")
        }
        let body = Array(bytes.dropLast(32))
        guard Array(SHA256.hash(data: body)) == Array(bytes.suffix(32)) else {
            throw ReplicaError(.corruptState, path: file, detail: "checksum mismatch")
        }
        var r = JournalReader(reader: WireReader(body, peer: file), file: file)
        do {
            _ = try r.reader.raw(4)
            generation = try r.reader.varint()
            lineage = try r.reader.string()
            let n = try r.reader.count(max: 50_000_000)
            var steps: [Step] = []
            steps.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n { steps.append(try r.step()) }
            try r.reader.expectEnd("journal")
            self.steps = steps
        } catch let e as ProtocolError {
            // A field that does not parse is damage to the journal, not a protocol problem.
            throw ReplicaError(.corruptState, path: file, detail: e.detail)
        }
    }

    static func kindCode(_ k: EntryKind) -> UInt8 {
        switch k { case .file: 1; case .directory: 2; case .symlink: 3 }
    }
    static func kind(_ c: UInt8) -> EntryKind? {
        switch c {
        case 1: .file
        case 2: .directory
        case 3: .symlink
        default: nil
        }
    }
}

/// Reads journal steps, checking every path and name.
private struct JournalReader {
    var reader: WireReader
    let file: String

    func corrupt(_ why: String) -> ReplicaError { ReplicaError(.corruptState, path: file, detail: why) }

    mutating func path() throws -> String {
        let p = try reader.string(max: RelativePath.maxLength)
        guard RelativePath.isValid(p) else { throw corrupt("invalid path \(p)") }
        return p
    }

    mutating func kind() throws -> EntryKind {
        let c = try reader.u8()
        guard let k = Journal.kind(c) else { throw corrupt("unknown kind \(c)") }
        return k
    }

    mutating func step() throws -> Journal.Step {
        switch try reader.u8() {
        case 1:
            let p = try path()
            let k = try reader.u8()
            if k == 0 { return .remove(path: p, onlyIf: nil) }
            guard let kind = Journal.kind(k) else { throw corrupt("unknown kind \(k)") }
            return .remove(path: p, onlyIf: kind)
        case 2:
            let p = try path()
            return .makeDirectory(path: p, mode: UInt32(try reader.count(max: 0o7777)))
        case 3:
            let p = try path()
            let t = try reader.string(max: 255)
            // One path component (no `/`, no NUL: the name goes to renameat as a C string).
            guard t.hasPrefix(".cm-mirror-"), !t.contains("/"), RelativePath.isValid(t) else { throw corrupt("bad temp name") }
            let dir: StagingDirectory
            switch try reader.u8() {
            case 1: dir = .inTree(try path())
            case 2: dir = .aboveTree(try path())
            default: throw corrupt("bad staging directory")
            }
            return .place(path: p, temp: t, directory: dir)
        case 4:
            let p = try path()
            let k = try kind()
            let mode = UInt32(try reader.count(max: 0o7777))
            let uid = UInt32(try reader.count(max: Int(UInt32.max)))
            let gid = UInt32(try reader.count(max: Int(UInt32.max)))
            let mtime = Int64(try reader.int())
            return .metadata(ManifestEntry(path: p, kind: k, mode: mode, uid: uid, gid: gid, mtimeNs: mtime))
        default:
            throw corrupt("unknown step")
        }
    }
}

import TreeDiff

/// Frame types of the replica protocol (version `ProtocolVersion.current`).
///
/// The master sends requests; data for an object, a delta or a manifest follows its request
/// as `data` frames closed by `dataEnd`. Every `data` payload of one connection belongs to one
/// zlib stream (flushed at each `dataEnd`), so many small files share one compression context.
/// Object and delta uploads are not answered one by one: the master streams them and asks
/// `flush` for the outcome, so thousands of small files cost no round trips.
public enum MessageType: UInt8, Sendable {
    // master → replica
    case hello = 0x01
    case getManifest = 0x02
    case getSignature = 0x03
    case putObject = 0x04
    case putDelta = 0x05
    case data = 0x06
    case dataEnd = 0x07
    case flush = 0x08
    case commit = 0x09
    case bye = 0x0A
    case putPatch = 0x0B
    case getBlockMap = 0x0C
    // replica → master
    case helloReply = 0x41
    case replyData = 0x42
    case replyEnd = 0x43
    case flushReply = 0x44
    case commitReply = 0x45
    case error = 0x7F
}

public enum ProtocolVersion {
    /// 2: block patches for large files (`putPatch`, `getBlockMap`).
    public static let current: UInt32 = 2
}

/// `hello`: who the master is and what it wants to be told.
struct HelloRequest: Sendable, Hashable {
    var version: UInt32
    var masterFingerprint: String
    var lineage: String

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.u32(version); w.string(masterFingerprint); w.string(lineage)
        return w.bytes
    }
    init(version: UInt32, masterFingerprint: String, lineage: String) {
        self.version = version; self.masterFingerprint = masterFingerprint; self.lineage = lineage
    }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        version = try r.u32(); masterFingerprint = try r.string(); lineage = try r.string()
        try r.expectEnd("hello")
    }
}

/// The replica's answer to `hello`: its role, the master it accepts, the generation it holds,
/// its free space and what it already has staged (for resume).
public struct HelloReply: Sendable, Hashable {
    public var version: UInt32
    public var role: String
    public var acceptedMaster: String
    public var generation: UInt64
    public var lineage: String
    public var treeDigest: ContentDigest?
    public var freeBytes: Int64
    /// Complete staged objects.
    public var staged: Set<ContentDigest>
    /// Partial objects and how many data bytes of each arrived.
    public var partial: [ContentDigest: Int64]

    static let maxListed = 200_000

    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 128 + staged.count * 33)
        w.u32(version); w.string(role); w.string(acceptedMaster)
        w.varint(generation); w.string(lineage)
        w.bool(treeDigest != nil)
        if let treeDigest { w.raw(treeDigest.bytes) }
        w.varint(UInt64(max(0, freeBytes)))
        let complete = staged.sorted().prefix(Self.maxListed)
        w.varint(UInt64(complete.count))
        for d in complete { w.raw(d.bytes) }
        let parts = partial.sorted { $0.key < $1.key }.prefix(Self.maxListed)
        w.varint(UInt64(parts.count))
        for (d, n) in parts { w.raw(d.bytes); w.varint(UInt64(max(0, n))) }
        return w.bytes
    }

    init(version: UInt32, role: String, acceptedMaster: String, generation: UInt64, lineage: String,
         treeDigest: ContentDigest?, freeBytes: Int64, staged: Set<ContentDigest>, partial: [ContentDigest: Int64]) {
        self.version = version; self.role = role; self.acceptedMaster = acceptedMaster
        self.generation = generation; self.lineage = lineage; self.treeDigest = treeDigest
        self.freeBytes = freeBytes; self.staged = staged; self.partial = partial
    }

    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        version = try r.u32(); role = try r.string(max: 64); acceptedMaster = try r.string(max: 256)
        generation = try r.varint(); lineage = try r.string(max: 256)
        treeDigest = try r.bool() ? try r.digest() : nil
        freeBytes = Int64(clamping: try r.varint())
        let n = try r.count(max: Self.maxListed)
        var staged = Set<ContentDigest>()
        for _ in 0..<n { staged.insert(try r.digest()) }
        self.staged = staged
        let m = try r.count(max: Self.maxListed)
        var partial: [ContentDigest: Int64] = [:]
        for _ in 0..<m { let d = try r.digest(); partial[d] = Int64(clamping: try r.varint()) }
        self.partial = partial
        try r.expectEnd("hello reply")
    }
}

/// `putObject`: a whole file's data extents follow (compressed), skipping `resumeAt` bytes
/// the replica already has.
struct PutObject: Sendable, Hashable {
    var digest: ContentDigest
    var size: Int64
    var extents: [DataExtent]
    var resumeAt: Int64

    static let maxExtents = 1 << 20

    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 64 + extents.count * 8)
        w.raw(digest.bytes); w.varint(UInt64(size)); w.varint(UInt64(resumeAt))
        w.varint(UInt64(extents.count))
        for e in extents { w.varint(UInt64(e.offset)); w.varint(UInt64(e.length)) }
        return w.bytes
    }
    init(digest: ContentDigest, size: Int64, extents: [DataExtent], resumeAt: Int64) {
        self.digest = digest; self.size = size; self.extents = extents; self.resumeAt = resumeAt
    }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        digest = try r.digest()
        size = try r.size()
        resumeAt = try r.size()
        let n = try r.count(max: Self.maxExtents)
        var extents: [DataExtent] = []
        var end: Int64 = 0
        for _ in 0..<n {
            let e = DataExtent(offset: try r.size(), length: try r.size())
            guard e.offset >= end, e.length >= 0, e.offset <= size - e.length else {
                throw ProtocolError(.badValue, peer: peer, detail: "extent \(e.offset)+\(e.length) out of order or past size \(size)")
            }
            end = e.end
            extents.append(e)
        }
        self.extents = extents
        try r.expectEnd("putObject")
    }
}

/// `putDelta`: a librsync delta against the replica's content `base` follows (compressed).
/// `putPatch` carries the same fields; a block patch (`BlockPatchOp` runs) follows.
struct PutDelta: Sendable, Hashable {
    var target: ContentDigest
    var size: Int64
    var base: ContentDigest

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.raw(target.bytes); w.varint(UInt64(size)); w.raw(base.bytes)
        return w.bytes
    }
    init(target: ContentDigest, size: Int64, base: ContentDigest) { self.target = target; self.size = size; self.base = base }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        target = try r.digest(); size = try r.size(); base = try r.digest()
        try r.expectEnd("putDelta")
    }
}

/// `getSignature`: the signature of the replica's content with this digest.
struct GetSignature: Sendable, Hashable {
    var digest: ContentDigest
    var blockLength: Int
    var strongLength: Int

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.raw(digest.bytes); w.varint(UInt64(blockLength)); w.varint(UInt64(strongLength))
        return w.bytes
    }
    init(digest: ContentDigest, blockLength: Int, strongLength: Int) {
        self.digest = digest; self.blockLength = blockLength; self.strongLength = strongLength
    }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        digest = try r.digest(); blockLength = try r.count(max: 1 << 24); strongLength = try r.count(max: 64)
        try r.expectEnd("getSignature")
    }
}

/// `getBlockMap`: the `BlockMap` of the replica's content with this digest.
struct GetBlockMap: Sendable, Hashable {
    var digest: ContentDigest

    func encoded() -> [UInt8] { digest.bytes }
    init(digest: ContentDigest) { self.digest = digest }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        digest = try r.digest()
        try r.expectEnd("getBlockMap")
    }
}

/// `commit`: the new generation's manifest follows as `data` frames (in the compressed
/// stream): the whole manifest, or, with `changes`, only what differs from the manifest
/// the replica holds (`ManifestChanges`).
struct CommitRequest: Sendable, Hashable {
    var generation: UInt64
    var lineage: String
    var manifestSize: Int
    /// Rehash every live file before planning (repair of silent corruption).
    var fullRehash = false
    /// When the data is `ManifestChanges`: the tree digest of the manifest they apply to and
    /// the tree digest the result must have.
    var changes: (base: ContentDigest, target: ContentDigest)?

    static let maxManifest = 1 << 30

    static func == (a: CommitRequest, b: CommitRequest) -> Bool {
        a.generation == b.generation && a.lineage == b.lineage && a.manifestSize == b.manifestSize
            && a.fullRehash == b.fullRehash && a.changes?.base == b.changes?.base && a.changes?.target == b.changes?.target
    }
    func hash(into h: inout Hasher) { h.combine(generation); h.combine(lineage); h.combine(manifestSize) }

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.varint(generation); w.string(lineage); w.varint(UInt64(manifestSize)); w.bool(fullRehash)
        w.bool(changes != nil)
        if let changes { w.raw(changes.base.bytes); w.raw(changes.target.bytes) }
        return w.bytes
    }
    init(generation: UInt64, lineage: String, manifestSize: Int, fullRehash: Bool,
         changes: (base: ContentDigest, target: ContentDigest)? = nil) {
        self.generation = generation; self.lineage = lineage; self.manifestSize = manifestSize; self.fullRehash = fullRehash
        self.changes = changes
    }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        generation = try r.varint(); lineage = try r.string(max: 256); manifestSize = try r.count(max: Self.maxManifest)
        fullRehash = try r.bool()
        changes = try r.bool() ? (try r.digest(), try r.digest()) : nil
        try r.expectEnd("commit")
    }
}

/// The outcome of staged uploads since the last flush: what failed, and why.
public struct FlushReply: Sendable, Hashable {
    public struct Failure: Sendable, Hashable {
        public var digest: ContentDigest
        public var code: String
        public var message: String
    }
    public var stored: Int
    public var failures: [Failure]

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.varint(UInt64(stored)); w.varint(UInt64(failures.count))
        for f in failures { w.raw(f.digest.bytes); w.string(f.code); w.string(f.message) }
        return w.bytes
    }
    init(stored: Int, failures: [Failure]) { self.stored = stored; self.failures = failures }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        stored = try r.count(max: Int.max)
        let n = try r.count(max: 10_000_000)
        var failures: [Failure] = []
        for _ in 0..<n { failures.append(Failure(digest: try r.digest(), code: try r.string(max: 64), message: try r.string())) }
        self.failures = failures
        try r.expectEnd("flush reply")
    }
}

/// What the replica holds after a commit.
public struct CommitReply: Sendable, Hashable {
    public var generation: UInt64
    public var treeDigest: ContentDigest
    public var bytesPlaced: Int64

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.varint(generation); w.raw(treeDigest.bytes); w.varint(UInt64(max(0, bytesPlaced)))
        return w.bytes
    }
    init(generation: UInt64, treeDigest: ContentDigest, bytesPlaced: Int64) {
        self.generation = generation; self.treeDigest = treeDigest; self.bytesPlaced = bytesPlaced
    }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        generation = try r.varint(); treeDigest = try r.digest(); bytesPlaced = Int64(clamping: try r.varint())
        try r.expectEnd("commit reply")
    }
}

/// An error reply: a code the master can act on (`missingContent`, `wrongRole`, ...) and a message.
public struct ErrorReply: Sendable, Hashable {
    public var code: String
    public var message: String

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.string(code); w.string(message)
        return w.bytes
    }
    init(code: String, message: String) { self.code = code; self.message = message }
    init(_ bytes: [UInt8], peer: String) throws(ProtocolError) {
        var r = WireReader(bytes, peer: peer)
        code = try r.string(max: 64); message = try r.string(max: 1 << 20)
        try r.expectEnd("error")
    }
}

extension WireReader {
    mutating func digest() throws(ProtocolError) -> ContentDigest {
        let b = try raw(ContentDigest.byteCount)
        return ContentDigest(bytes: b)!
    }
    /// A size or offset that fits a file (below 2^62).
    mutating func size() throws(ProtocolError) -> Int64 {
        let v = try varint()
        guard v < (1 << 62) else { throw ProtocolError(.tooLarge, peer: peer, detail: "size \(v)") }
        return Int64(v)
    }
}

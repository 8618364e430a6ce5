#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Streaming computation of a `ContentDigest`: sparse-aware chunked SHA-256.
///
/// The content is cut into 1 MiB chunks (the last may be short) and
/// `digest = SHA256("cmdg1" || UInt64(size) little-endian || SHA256(chunk0) || SHA256(chunk1) || ...)`.
/// A whole, aligned chunk of zeros (a hole) uses a precomputed chunk digest, so a sparse
/// 64 GiB image hashes in the time of its data. Equal bytes give equal digests whether they
/// were fed through `update(_:)` or `updateZeros(count:)`.
public struct ContentHasher {
    /// The chunk size, 1 MiB.
    public static let chunkSize = 1 << 20

    private var chunk = SHA256()
    private var chunkFill = 0
    private var size: UInt64 = 0
    /// The digests of the finished chunks, 32 bytes each, in order.
    private var chunkDigests: [UInt8] = []

    public init() {}

    /// Feeds content bytes.
    /// - Parameter bytes: the next bytes of the content.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.chunkSize - chunkFill)
            chunk.update(bufferPointer: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            chunkFill += take
            size += UInt64(take)
            rest = rest.dropFirst(take)
            if chunkFill == Self.chunkSize { finishChunk() }
        }
    }

    /// Feeds `count` zero bytes (a hole), whole aligned chunks without hashing them again.
    /// - Parameter count: how many zero bytes follow.
    public mutating func updateZeros(count: Int64) {
        precondition(count >= 0, "negative zero run")
        var remaining = count
        while remaining > 0 {
            if chunkFill == 0 && remaining >= Int64(Self.chunkSize) {
                chunkDigests.append(contentsOf: ZeroChunk.digest)
                size += UInt64(Self.chunkSize)
                remaining -= Int64(Self.chunkSize)
                continue
            }
            let take = Int(min(remaining, Int64(Self.chunkSize - chunkFill), Int64(ZeroChunk.buffer.count)))
            update(UnsafeRawBufferPointer(rebasing: ZeroChunk.buffer[..<take]))
            remaining -= Int64(take)
        }
    }

    /// Appends a whole chunk already hashed by the caller (`digest` = SHA-256 of its `count`
    /// bytes), so a reader that needs chunk digests itself hashes each byte once. Only at a
    /// chunk boundary; a short chunk must be the last.
    mutating func appendChunk(digest: ContentDigest, count: Int) {
        precondition(chunkFill == 0 && count > 0 && count <= Self.chunkSize, "appendChunk off a chunk boundary")
        digest.withUnsafeBytes { chunkDigests.append(contentsOf: $0) }
        size += UInt64(count)
    }

    /// SHA-256 of one whole chunk of zeros.
    static var zeroChunkDigest: ContentDigest { ContentDigest(bytes: ZeroChunk.digest)! }

    /// The number of content bytes fed so far.
    public var byteCount: UInt64 { size }

    /// Finishes the digest (the hasher is consumed).
    public consuming func finalize() -> ContentDigest {
        if chunkFill > 0 { finishChunk() }
        var outer = SHA256()
        outer.update(data: Array("cmdg1".utf8))
        withUnsafeBytes(of: size.littleEndian) { outer.update(bufferPointer: $0) }
        chunkDigests.withUnsafeBytes { outer.update(bufferPointer: $0) }
        return ContentDigest(bytes: Array(outer.finalize()))!
    }

    private mutating func finishChunk() {
        let digest = chunk.finalize()
        digest.withUnsafeBytes { chunkDigests.append(contentsOf: $0) }
        chunk = SHA256()
        chunkFill = 0
    }
}

/// A shared read-only zero buffer (64 KiB) and the digest of one whole zero chunk; also what
/// the sparse writer and the block patch planner compare data with to find zeros.
enum ZeroChunk {
    // A global immutable allocation never written after creation: safe to share across threads.
    nonisolated(unsafe) static let buffer: UnsafeRawBufferPointer = {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        return UnsafeRawBufferPointer(raw)
    }()

    static let digest: [UInt8] = {
        var hasher = SHA256()
        for _ in 0..<(ContentHasher.chunkSize / buffer.count) { hasher.update(bufferPointer: buffer) }
        return Array(hasher.finalize())
    }()

    /// Whether `bytes` (at most 64 KiB) are all zeros.
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        precondition(bytes.count <= buffer.count, "compare at most \(buffer.count) bytes")
        return bytes.isEmpty || memcmp(bytes.baseAddress!, buffer.baseAddress!, bytes.count) == 0
    }
}

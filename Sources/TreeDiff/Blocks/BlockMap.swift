import Crypto

/// The fixed-block map of a large file's content: for each 1 MiB chunk, its SHA-256 (the
/// chunk digest `ContentDigest` is built from) and a 64-bit `BlockHash` per 4 KiB block;
/// a chunk of zeros (a hole) carries neither.
///
/// The master keeps the map of what each replica holds, so that when an image changes it
/// finds the changed blocks by reading only the new version: chunks whose digest is the same
/// are skipped whole, and inside a changed chunk only blocks whose hash differs are sent.
public struct BlockMap: Sendable, Equatable {
    /// The chunk size, 1 MiB (as `ContentHasher.chunkSize`).
    public static let chunkSize = ContentHasher.chunkSize
    /// The block size, 4 KiB: the unit images are written in.
    public static let blockSize = 4096
    /// Blocks in a whole chunk.
    public static let blocksPerChunk = chunkSize / blockSize

    /// One chunk that holds data.
    public struct Chunk: Sendable, Equatable {
        /// SHA-256 of the chunk's bytes.
        public var digest: ContentDigest
        /// `BlockHash` of each 4 KiB block (the last block of a file may be short).
        public var blocks: [UInt64]
    }

    /// The file's size in bytes.
    public var size: Int64
    /// The content digest of the mapped content.
    public var digest: ContentDigest
    /// Per chunk, nil when the chunk is all zeros.
    public var chunks: [Chunk?]

    /// The number of chunks a file of `size` bytes has.
    public static func chunkCount(size: Int64) -> Int {
        Int((size + Int64(chunkSize) - 1) / Int64(chunkSize))
    }

    /// The length of chunk `index` of a file of `size` bytes.
    public static func chunkLength(_ index: Int, size: Int64) -> Int {
        Int(min(Int64(chunkSize), size - Int64(index) * Int64(chunkSize)))
    }

    /// Data bytes the map covers (chunks that are not holes).
    public var dataChunks: Int { chunks.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

// MARK: - Encoding

extension BlockMap {
    private static let magic: [UInt8] = Array("CMBM".utf8) + [1]

    /// The map's binary form: magic and version, size, digest, per chunk a flag and its
    /// digest and block hashes, then a SHA-256 of everything before.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Self.magic)
        w.fixed64(UInt64(size))
        digest.withUnsafeBytes { w.bytes($0) }
        w.varint(UInt64(chunks.count))
        for chunk in chunks {
            guard let chunk else { w.byte(0); continue }
            w.byte(1)
            chunk.digest.withUnsafeBytes { w.bytes($0) }
            for b in chunk.blocks { w.fixed64(b) }
        }
        let checksum = SHA256.hash(data: w.buffer)
        w.bytes(Array(checksum))
        return w.buffer
    }

    /// Decodes and validates a map.
    /// - Parameters:
    ///   - bytes: what `encoded()` produced.
    ///   - context: names the map's origin in errors (a cache file, a replica).
    /// - Throws: `BlockError` `.corruptMap` on any inconsistency.
    public init(decoding bytes: [UInt8], context: String) throws(BlockError) {
        let corrupt = BlockError(.corruptMap, context: context)
        guard bytes.count >= Self.magic.count + 8 + 32 + 1 + 32 else { throw corrupt }
        let body = bytes.count - 32
        let expected = bytes.withUnsafeBytes { Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: $0[..<body]))) }
        guard Array(bytes[body...]) == expected, Array(bytes[..<Self.magic.count]) == Self.magic else { throw corrupt }
        let result: Result<BlockMap, ManifestError> = bytes.withUnsafeBytes { raw in
            do throws(ManifestError) {
                return .success(try Self.decodeBody(UnsafeRawBufferPointer(rebasing: raw[..<body])))
            } catch {
                return .failure(error)
            }
        }
        guard case .success(let map) = result else { throw corrupt }
        self = map
    }

    private static func decodeBody(_ raw: UnsafeRawBufferPointer) throws(ManifestError) -> BlockMap {
        var r = ByteReader(raw, offset: magic.count)
        let size = try r.fixed64()
        guard size < (1 << 62) else { throw ManifestError(code: .invalidEntry) }
        let digest = ContentDigest(bytes: try r.bytes(32))!
        let count = try r.varint()
        guard count == UInt64(chunkCount(size: Int64(size))) else { throw ManifestError(code: .invalidEntry) }
        var chunks: [Chunk?] = []
        chunks.reserveCapacity(min(Int(count), r.remaining))
        for index in 0..<Int(count) {
            switch try r.byte() {
            case 0: chunks.append(nil)
            case 1:
                let chunkDigest = ContentDigest(bytes: try r.bytes(32))!
                let length = chunkLength(index, size: Int64(size))
                let n = (length + blockSize - 1) / blockSize
                guard r.remaining >= n * 8 else { throw ManifestError(code: .truncated) }
                var blocks = [UInt64](repeating: 0, count: n)
                for j in 0..<n { blocks[j] = try r.fixed64() }
                chunks.append(Chunk(digest: chunkDigest, blocks: blocks))
            default: throw ManifestError(code: .invalidEntry)
            }
        }
        guard r.remaining == 0 else { throw ManifestError(code: .trailingData) }
        return BlockMap(size: Int64(size), digest: digest, chunks: chunks)
    }
}

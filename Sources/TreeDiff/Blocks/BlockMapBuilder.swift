import Crypto

/// Builds the `BlockMap` of content fed as data pieces at increasing offsets (holes between
/// pieces are zeros), computing the content digest in the same pass.
///
/// Each finished chunk is also handed to `onChunk`, with its bytes, so a patch planner can
/// compare it with an older map while the file is read once.
public final class BlockMapBuilder {
    /// Called for each chunk in order: index, its map entry (nil for zeros) and its bytes
    /// (nil when no data was fed for it).
    public typealias ChunkHandler = (_ index: Int, _ chunk: BlockMap.Chunk?, _ bytes: UnsafeRawBufferPointer?) throws -> Void

    public let size: Int64
    private let buffer: UnsafeMutableRawBufferPointer
    private var index = 0
    private var filled = false
    private var nextOffset: Int64 = 0
    private var hasher = ContentHasher()
    private var chunks: [BlockMap.Chunk?] = []
    private let onChunk: ChunkHandler?

    /// - Parameters:
    ///   - size: the file's size.
    ///   - onChunk: optional observer of each finished chunk.
    public init(size: Int64, onChunk: ChunkHandler? = nil) {
        self.size = size
        self.onChunk = onChunk
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: BlockMap.chunkSize, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        chunks.reserveCapacity(BlockMap.chunkCount(size: size))
    }

    deinit { buffer.deallocate() }

    /// Feeds data at `offset`, which must not be before the end of the previous piece.
    /// - Throws: what `onChunk` throws; `BlockError.badPatch` when offsets go backwards or
    ///   past the size.
    public func feed(offset: Int64, _ bytes: UnsafeRawBufferPointer) throws {
        guard offset >= nextOffset, offset <= size - Int64(bytes.count) else {
            throw BlockError(.badPatch, context: "data at \(offset)+\(bytes.count) out of order or past \(size)")
        }
        var position = offset
        var rest = bytes[...]
        while !rest.isEmpty {
            let chunkIndex = Int(position / Int64(BlockMap.chunkSize))
            while index < chunkIndex { try finishChunk() }
            let within = Int(position - Int64(chunkIndex) * Int64(BlockMap.chunkSize))
            let take = min(rest.count, BlockMap.chunkSize - within)
            UnsafeMutableRawBufferPointer(rebasing: buffer[within..<(within + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            filled = true
            position += Int64(take)
            rest = rest.dropFirst(take)
        }
        nextOffset = position
    }

    /// Finishes the remaining chunks and returns the map.
    public func finish() throws -> BlockMap {
        while index < BlockMap.chunkCount(size: size) { try finishChunk() }
        let done = hasher
        return BlockMap(size: size, digest: done.finalize(), chunks: chunks)
    }

    private func finishChunk() throws {
        let length = BlockMap.chunkLength(index, size: size)
        if !filled {
            hasher.updateZeros(count: Int64(length))
            chunks.append(nil)
            try onChunk?(index, nil, nil)
        } else {
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<length])
            let digest = ContentDigest(bytes: Array(SHA256.hash(data: bytes)))!
            hasher.appendChunk(digest: digest, count: length)
            let chunk: BlockMap.Chunk?
            if length == BlockMap.chunkSize && digest == ContentHasher.zeroChunkDigest {
                chunk = nil  // data that is all zeros: a hole to the replica
            } else {
                var blocks = [UInt64](repeating: 0, count: (length + BlockMap.blockSize - 1) / BlockMap.blockSize)
                for j in blocks.indices {
                    let start = j * BlockMap.blockSize
                    blocks[j] = BlockHash.hash(UnsafeRawBufferPointer(rebasing: bytes[start..<min(length, start + BlockMap.blockSize)]))
                }
                chunk = BlockMap.Chunk(digest: digest, blocks: blocks)
            }
            chunks.append(chunk)
            try onChunk?(index, chunk, bytes)
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        }
        filled = false
        index += 1
    }
}

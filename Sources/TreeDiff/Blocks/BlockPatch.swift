/// The block patch stream: how a replica rebuilds a large file from its older version.
///
/// A sequence of runs that cover the new file from offset 0 to its size, in order. Each run
/// is an op byte and a LEB128 length; a `data` run's bytes follow it:
/// - `copy` (1): the same bytes as the base at the same offset;
/// - `data` (2): these bytes;
/// - `zero` (3): zeros (left as a hole).
/// The stream carries no offsets, so it cannot address anything outside the file.
public enum BlockPatchOp: UInt8, Sendable {
    case copy = 1
    case data = 2
    case zero = 3
}

/// Writes runs, merging neighbours of the same kind, to a byte sink.
struct BlockPatchEncoder {
    /// Longest data run (its header goes before its bytes, so runs are cut to bound buffering).
    static let maxDataRun = 1 << 20

    private var pending: (op: BlockPatchOp, length: Int64)?
    private var dataBuffer: [UInt8] = []
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private(set) var dataBytes: Int64 = 0

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
        dataBuffer.reserveCapacity(Self.maxDataRun)
    }

    mutating func run(_ op: BlockPatchOp, length: Int64) throws {
        precondition(op != .data && length > 0)
        if let p = pending, p.op == op { pending = (op, p.length + length); return }
        try flush()
        pending = (op, length)
    }

    mutating func data(_ bytes: UnsafeRawBufferPointer) throws {
        if let p = pending, p.op != .data { try flush() }
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.maxDataRun - dataBuffer.count)
            dataBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            rest = rest.dropFirst(take)
            pending = (.data, Int64(dataBuffer.count))
            if dataBuffer.count == Self.maxDataRun { try flush() }
        }
        dataBytes += Int64(bytes.count)
    }

    mutating func flush() throws {
        guard let p = pending else { return }
        pending = nil
        var header = ByteWriter()
        header.byte(p.op.rawValue)
        header.varint(UInt64(p.length))
        try header.buffer.withUnsafeBytes { try sink($0) }
        if p.op == .data {
            try dataBuffer.withUnsafeBytes { try sink($0) }
            dataBuffer.removeAll(keepingCapacity: true)
        }
    }
}

/// What planning a block patch found.
public struct BlockPatchSummary: Sendable, Equatable {
    /// The map of the new content (to keep for the next change).
    public var map: BlockMap
    /// Bytes shipped as data runs.
    public var dataBytes: Int64
    /// Bytes of the file the planner read (its data extents).
    public var bytesRead: Int64
}

/// Makes the block patch that turns content with map `base` into the file read from `fd`.
public enum BlockPatchPlanner {
    /// Reads the new file's data extents once, compares each chunk and block with `base`
    /// and streams the patch to `sink`.
    /// - Parameters:
    ///   - fd: the new file, open for reading (offset unused).
    ///   - size: its size from the scan.
    ///   - extents: its data extents from the scan (empty = dense, `[.allHole]` = no data).
    ///   - base: the map of the content the replica holds.
    ///   - context: the file's path, for errors.
    ///   - sink: receives the patch bytes in order.
    /// - Returns: the new content's map (check `map.digest` against the scan: a file that
    ///   changed since gives another digest, and the replica will refuse the patch).
    /// - Throws: `BlockError` `.io` / `.shortRead`, or what `sink` throws.
    public static func plan(fd: CInt, size: Int64, extents: [DataExtent], base: BlockMap, context: String,
                            sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> BlockPatchSummary {
        var encoder = BlockPatchEncoder(sink: sink)
        let zeroBlock = BlockHash.hash(UnsafeRawBufferPointer(rebasing: ZeroChunk.buffer[..<BlockMap.blockSize]))
        let builder = BlockMapBuilder(size: size) { index, chunk, bytes in
            let length = Int64(BlockMap.chunkLength(index, size: size))
            let old = index < base.chunks.count ? base.chunks[index] : nil
            let baseHasChunk = index < base.chunks.count && Int64(BlockMap.chunkLength(index, size: base.size)) == length
            guard let chunk, let bytes else {
                try encoder.run(.zero, length: length)
                return
            }
            if let old, baseHasChunk, old.digest == chunk.digest {
                try encoder.run(.copy, length: length)
                return
            }
            for (j, hash) in chunk.blocks.enumerated() {
                let start = j * BlockMap.blockSize
                let block = UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + BlockMap.blockSize)])
                if let old, j < old.blocks.count, old.blocks[j] == hash {
                    try encoder.run(.copy, length: Int64(block.count))
                } else if block.count == BlockMap.blockSize && hash == zeroBlock && ZeroChunk.isZero(block) {
                    try encoder.run(.zero, length: Int64(block.count))
                } else {
                    try encoder.data(block)
                }
            }
        }
        let bytesRead = try DataReader.forEachPiece(fd: fd, size: size, extents: extents, context: context) { offset, piece in
            try builder.feed(offset: offset, piece)
        }
        let map = try builder.finish()
        try encoder.flush()
        return BlockPatchSummary(map: map, dataBytes: encoder.dataBytes, bytesRead: bytesRead)
    }
}

/// Reads a file's data extents in 1 MiB pieces, never reading its holes.
enum DataReader {
    /// Calls `body` with each piece of data, at increasing offsets.
    /// - Parameters:
    ///   - extents: from a scan (empty = dense, `[.allHole]` = none), or nil to ask the file
    ///     (`lseek` `SEEK_DATA`/`SEEK_HOLE`).
    /// - Returns: the bytes read.
    /// - Throws: `BlockError` `.io` or `.shortRead`, or what `body` throws.
    static func forEachPiece(fd: CInt, size: Int64, extents: [DataExtent]?, context: String,
                             _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let runs: [DataExtent]
        if let extents {
            runs = DataExtent.dataRuns(of: extents, size: size)
        } else {
            do throws(FileDigestError) {
                runs = try FileDigester.dataExtents(fd: fd, size: size)
            } catch {
                if case .readFailed(let errno) = error.code { throw BlockError(.io(errno), context: context) }
                throw BlockError(.shortRead, context: context)
            }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: BlockMap.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        for run in runs {
            var position = run.offset
            while position < run.end {
                // Pieces end on chunk boundaries so a chunk is never split across two reads needlessly.
                let toBoundary = Int64(BlockMap.chunkSize) - position % Int64(BlockMap.chunkSize)
                let want = Int(min(toBoundary, run.end - position))
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<want])
                switch Sys.readAt(fd, slice, offset: position) {
                case .failure(let errno): throw BlockError(.io(errno), context: context)
                case .success(0): throw BlockError(.shortRead, context: context)
                case .success(let n):
                    try body(position, UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                    position += Int64(n)
                    total += Int64(n)
                }
            }
        }
        return total
    }
}

extension BlockMap {
    /// Builds the map of an open file, reading only its data.
    /// - Parameters:
    ///   - fd: the file, open for reading.
    ///   - size: its size.
    ///   - extents: its data extents if known, else nil to find them (`SEEK_DATA`/`SEEK_HOLE`).
    ///   - context: names the file in errors.
    /// - Throws: `BlockError` `.io` / `.shortRead`.
    public static func build(fd: CInt, size: Int64, extents: [DataExtent]? = nil, context: String) throws -> BlockMap {
        let builder = BlockMapBuilder(size: size)
        _ = try DataReader.forEachPiece(fd: fd, size: size, extents: extents, context: context) { offset, piece in
            try builder.feed(offset: offset, piece)
        }
        return try builder.finish()
    }
}

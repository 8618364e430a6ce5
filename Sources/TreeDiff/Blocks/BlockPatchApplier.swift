import SystemPackage

/// Rebuilds a file from its base and a block patch stream fed in pieces of any size,
/// hashing the result as it is written, so the digest check costs no second read.
///
/// The output is written sparse: zero runs and zero pages stay holes. Copies from the base
/// read only the base's data extents.
public final class BlockPatchApplier {
    private enum State {
        case header([UInt8])
        case data(remaining: Int64)
    }

    private let base: CInt
    private let baseSize: Int64
    private let writer: FileWriter
    private let size: Int64
    private let context: String
    private var state: State = .header([])
    private var hasher = ContentHasher()
    private let buffer: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - base: the content the patch was made against, open for reading (not closed here).
    ///   - output: an empty file open for writing (not closed here).
    ///   - size: the new content's size.
    ///   - context: names the object in errors.
    /// - Throws: `BlockError.io` when the base cannot be inspected.
    public init(base: FileDescriptor, output: FileDescriptor, size: Int64, context: String) throws {
        self.base = base.rawValue
        switch Sys.fstatus(base.rawValue) {
        case .failure(let errno): throw BlockError(.io(errno), context: context)
        case .success(let st): baseSize = st.size
        }
        writer = FileWriter(fd: output, sparse: true)
        self.size = size
        self.context = context
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: BlockMap.chunkSize, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Bytes of the new file produced so far.
    public var position: Int64 { writer.offset }

    /// Applies the next piece of the stream.
    /// - Throws: `BlockError` `.badPatch` (unknown op, a run past the size), `.io`.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            switch state {
            case .data(let remaining):
                let take = Int(min(Int64(rest.count), remaining))
                let piece = UnsafeRawBufferPointer(rebasing: rest.prefix(take))
                hasher.update(piece)
                try write(piece)
                rest = rest.dropFirst(take)
                state = remaining == Int64(take) ? .header([]) : .data(remaining: remaining - Int64(take))
            case .header(var header):
                header.append(rest.first!)
                rest = rest.dropFirst()
                guard let (op, length) = try parseHeader(header) else {
                    state = .header(header)
                    continue
                }
                state = .header([])
                try start(op, length)
            }
        }
    }

    /// Ends the stream.
    /// - Returns: the digest of the content written (compare it with the expected one).
    /// - Throws: `BlockError.badPatch` when the runs do not reach the size, or a data run
    ///   is cut short; `.io` when setting the size fails.
    public func finish() throws -> ContentDigest {
        guard case .header(let h) = state, h.isEmpty, writer.offset == size else {
            throw BlockError(.badPatch, context: "\(context): stream ended at \(writer.offset) of \(size) bytes")
        }
        try writer.finish()
        let done = hasher
        return done.finalize()
    }

    /// An op and length once the header is complete; nil while more bytes are needed.
    private func parseHeader(_ header: [UInt8]) throws -> (BlockPatchOp, Int64)? {
        guard let op = BlockPatchOp(rawValue: header[0]) else {
            throw BlockError(.badPatch, context: "\(context): unknown op \(header[0]) at \(writer.offset)")
        }
        var value: UInt64 = 0
        for (i, byte) in header.dropFirst().enumerated() {
            guard i < 9 else { throw BlockError(.badPatch, context: "\(context): run length too long") }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(i))
            if byte & 0x80 == 0 {
                guard value > 0, value <= UInt64(size - writer.offset) else {
                    throw BlockError(.badPatch, context: "\(context): run of \(value) at \(writer.offset) passes the size \(size)")
                }
                return (op, Int64(value))
            }
        }
        return nil
    }

    private func start(_ op: BlockPatchOp, _ length: Int64) throws {
        switch op {
        case .data: state = .data(remaining: length)
        case .zero:
            hasher.updateZeros(count: length)
            writer.skip(length)
        case .copy: try copyFromBase(length)
        }
    }

    private func write(_ piece: UnsafeRawBufferPointer) throws {
        do { try writer.write(piece) } catch let e as DeltaError {
            if case .ioError(let n) = e.code { throw BlockError(.io(Errno(rawValue: n)), context: context) }
            throw e
        }
    }

    /// Copies `length` bytes of the base at the current offset, skipping its holes; bytes
    /// past the base's end read as zeros (the digest check catches a wrong base).
    private func copyFromBase(_ length: Int64) throws {
        var position = writer.offset
        let end = position + length
        while position < end {
            let dataStart: Int64
            switch position < baseSize ? Sys.seekData(base, from: position) : .success(nil) {
            case .failure(let errno): throw BlockError(.io(errno), context: context)
            case .success(let start): dataStart = min(start ?? end, end)
            }
            if dataStart > position {
                hasher.updateZeros(count: dataStart - position)
                writer.skip(dataStart - position)
                position = dataStart
                continue
            }
            let holeStart: Int64
            switch Sys.seekHole(base, from: position) {
            case .failure(let errno): throw BlockError(.io(errno), context: context)
            case .success(let h): holeStart = min(h ?? baseSize, end, baseSize)
            }
            guard holeStart > position else { throw BlockError(.shortRead, context: "\(context): base changed at \(position)") }
            while position < holeStart {
                let want = Int(min(Int64(buffer.count), holeStart - position))
                switch Sys.readAt(base, UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), offset: position) {
                case .failure(let errno): throw BlockError(.io(errno), context: context)
                case .success(0):
                    throw BlockError(.shortRead, context: "\(context): base ended at \(position)")
                case .success(let n):
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[..<n])
                    hasher.update(piece)
                    try write(piece)
                    position += Int64(n)
                }
            }
        }
    }
}

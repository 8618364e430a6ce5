/// Decompresses a zlib (RFC 1950) stream in constant memory, refusing corrupt data and
/// output beyond a limit.
///
/// Push compressed bytes with `feed`; the original bytes come out through `emit` in chunks of
/// at most `Inflater.outputCapacity`. Wraps `inflateInit2_`, `inflate` and `inflateEnd`.
public final class Inflater {
    /// Size of the fixed output buffer; `emit` never sees a larger chunk.
    public static let outputCapacity = 256 * 1024

    /// The most bytes this stream may produce.
    public let maxOutput: Int64
    private let stream: ZlibStreamHandle
    private let output: UnsafeMutableRawBufferPointer
    private var failed = false
    /// Whether the stream's end marker (and checksum) has been read and verified.
    public private(set) var isFinished = false
    /// Decompressed bytes emitted so far.
    public private(set) var bytesOut: Int64 = 0

    /// Starts decompressing.
    /// - Parameter maxOutput: the most bytes the stream may decompress to (e.g. the expected
    ///   file or delta size plus margin); more is refused as a decompression bomb.
    /// - Throws: `CompressionError` `.internal` when zlib has no memory.
    public init(maxOutput: Int64) throws {
        guard let s = ZlibStreamHandle.inflater() else {
            throw CompressionError(.internal(code: -4), context: "starting decompression")
        }
        self.maxOutput = maxOutput
        stream = s
        output = .allocate(byteCount: Inflater.outputCapacity, alignment: 16)
    }

    deinit { output.deallocate() }

    /// Decompresses the next compressed bytes.
    /// - Parameters:
    ///   - input: compressed bytes (any length, may be empty).
    ///   - isLast: true when no more input follows: the stream must then be complete.
    ///   - emit: receives decompressed chunks, valid only during the call.
    /// - Throws: `CompressionError` `.corrupt` (bad data, bad checksum, bytes after the end),
    ///   `.truncated` (isLast before the end), `.outputLimitExceeded`, `.misuse`; or what
    ///   `emit` throws. The inflater is unusable after an error.
    public func feed(_ input: UnsafeRawBufferPointer, isLast: Bool,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !failed else { throw CompressionError(.misuse, context: "decompressing") }
        failed = true  // until this call completes
        if isFinished {
            guard input.isEmpty else {
                throw CompressionError(.corrupt, context: "decompressing: bytes after the end of the stream")
            }
            failed = false
            return
        }
        var rest = input
        repeat {
            let piece = UnsafeRawBufferPointer(rebasing: rest.prefix(1 << 30))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(piece.count))
            stream.setBuffers(input: piece, output: output)
            pieceLoop: while true {
                let status = stream.inflate()
                let produced = output.count - stream.availOut
                if produced > 0 {
                    bytesOut += Int64(produced)
                    guard bytesOut <= maxOutput else {
                        throw CompressionError(.outputLimitExceeded(limit: maxOutput), context: "decompressing")
                    }
                    try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
                    stream.setOutput(output)
                }
                switch status {
                case .streamEnd:
                    isFinished = true
                    guard stream.availIn == 0 && rest.isEmpty else {
                        throw CompressionError(.corrupt, context: "decompressing: bytes after the end of the stream")
                    }
                    break pieceLoop
                case .ok, .bufferFull:
                    if produced == output.count { continue }  // output was full: more may come
                    if stream.availIn == 0 { break pieceLoop }
                    if status == .bufferFull {
                        throw CompressionError(.internal(code: -5), context: "decompressing: no progress")
                    }
                case .dataError, .needDictionary:
                    throw CompressionError(.corrupt, context: "decompressing: \(stream.message ?? "bad data")")
                case .memoryError, .other:
                    throw CompressionError(.internal(code: -4), context: "decompressing")
                }
            }
        } while !rest.isEmpty
        if isLast && !isFinished {
            throw CompressionError(.truncated, context: "decompressing")
        }
        failed = false
    }
}

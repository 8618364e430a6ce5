// All raw zlib calls of the package live in this file, as thin typed wrappers.
// Nothing here is public: no `z_` type leaves this file.

internal import CZlib

/// What one `deflate`/`inflate` call reported.
enum ZlibStatus: Equatable {
    case ok
    case streamEnd
    /// No progress was possible (needs input or output space); not an error by itself.
    case bufferFull
    case dataError
    case needDictionary
    case memoryError
    case other(Int32)

    init(_ code: Int32) {
        switch code {
        case Z_OK: self = .ok
        case Z_STREAM_END: self = .streamEnd
        case Z_BUF_ERROR: self = .bufferFull
        case Z_DATA_ERROR: self = .dataError
        case Z_NEED_DICT: self = .needDictionary
        case Z_MEM_ERROR: self = .memoryError
        default: self = .other(code)
        }
    }
}

/// How much of a `deflate` stream to push out.
enum ZlibFlush {
    case none, sync, finish

    var raw: Int32 {
        switch self {
        case .none: return Z_NO_FLUSH
        case .sync: return Z_SYNC_FLUSH
        case .finish: return Z_FINISH
        }
    }
}

/// Owns one `z_stream` set up for compression or decompression; ends it in deinit
/// (`deflateEnd` / `inflateEnd`).
final class ZlibStreamHandle {
    private let stream: UnsafeMutablePointer<z_stream>
    private let compressing: Bool

    private init(stream: UnsafeMutablePointer<z_stream>, compressing: Bool) {
        self.stream = stream
        self.compressing = compressing
    }

    deinit {
        if compressing { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deallocate()
    }

    private static func newStream() -> UnsafeMutablePointer<z_stream> {
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())  // zalloc/zfree/opaque = Z_NULL: zlib's allocator
        return s
    }

    /// Wraps `deflateInit2_` (via `cm_deflateInit2`): zlib format (window 15, adler-32
    /// trailer), memLevel 8, default strategy. Returns nil for a bad level or no memory.
    static func deflater(level: Int32) -> ZlibStreamHandle? {
        let s = newStream()
        guard cm_deflateInit2(s, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            s.deallocate()
            return nil
        }
        return ZlibStreamHandle(stream: s, compressing: true)
    }

    /// Wraps `inflateInit2_` (via `cm_inflateInit2`) for the zlib format (window 15).
    static func inflater() -> ZlibStreamHandle? {
        let s = newStream()
        guard cm_inflateInit2(s, 15) == Z_OK else {
            s.deallocate()
            return nil
        }
        return ZlibStreamHandle(stream: s, compressing: false)
    }

    /// Bytes of input not yet consumed by the last call.
    var availIn: Int { Int(stream.pointee.avail_in) }
    /// Free bytes left in the output buffer after the last call.
    var availOut: Int { Int(stream.pointee.avail_out) }

    /// Points the stream at input and output buffers (each at most 4 GiB - 1 bytes).
    func setBuffers(input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        setOutput(output)
    }

    /// Points the stream at a fresh output buffer, keeping the input position.
    func setOutput(_ output: UnsafeMutableRawBufferPointer) {
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
    }

    /// Wraps `deflate`.
    func deflate(_ flush: ZlibFlush) -> ZlibStatus { ZlibStatus(CZlib.deflate(stream, flush.raw)) }

    /// Wraps `inflate` with `Z_NO_FLUSH`.
    func inflate() -> ZlibStatus { ZlibStatus(CZlib.inflate(stream, Z_NO_FLUSH)) }

    /// zlib's own message for the last error (`msg`), if any.
    var message: String? { stream.pointee.msg.map { String(cString: $0) } }
}

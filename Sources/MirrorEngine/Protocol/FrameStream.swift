#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A bidirectional byte stream the replica protocol runs over: an SSH exec channel on the
/// master, stdin/stdout on the replica, a socket pair in tests.
public protocol ByteStream: AnyObject {
    /// Reads at most `buffer.count` bytes; returns 0 at end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Writes every byte.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// A `ByteStream` over two file descriptors (stdin/stdout of `replica serve`, a socket pair).
/// It does not own them.
public final class FileDescriptorStream: ByteStream {
    let input: FileDescriptor
    let output: FileDescriptor

    public init(input: FileDescriptor, output: FileDescriptor) {
        self.input = input
        self.output = output
        // A peer that hangs up must become a write error (EPIPE), not a silent process death.
        _ = Self.ignoreSIGPIPE
    }

    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try input.read(into: buffer, retryOnInterrupt: true)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        _ = try output.writeAll(bytes)
    }
}

/// One protocol frame: a type byte and a payload.
public struct Frame: Sendable, Hashable {
    public var type: UInt8
    public var payload: [UInt8]
    public init(type: UInt8, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }
}

/// Frames on a byte stream: `[type u8][length u32 BE][payload]`. Writes are buffered so a burst
/// of small frames (many small files) leaves as a few large writes; `flush()` sends them.
public final class FrameStream {
    /// The largest payload either side accepts.
    public static let maxPayload = 4 << 20
    let stream: ByteStream
    public let peer: String
    private var outBuffer: [UInt8] = []
    /// Received bytes not yet handed out live in `inBuffer[inStart..<inEnd]`; the storage is
    /// allocated once (and grown only for a frame larger than it), never zero-filled per read.
    private var inBuffer = [UInt8](repeating: 0, count: 256 << 10)
    private var inStart = 0
    private var inEnd = 0
    private let flushThreshold = 256 << 10
    /// Bytes written to and read from the stream, frame headers included.
    public private(set) var bytesSent: Int = 0
    public private(set) var bytesReceived: Int = 0

    public init(_ stream: ByteStream, peer: String) {
        self.stream = stream
        self.peer = peer
        outBuffer.reserveCapacity(flushThreshold + 64 << 10)
    }

    /// Queues a frame, sending buffered frames once enough have gathered.
    public func send(_ frame: Frame) throws {
        precondition(frame.payload.count <= Self.maxPayload, "frame payload over the protocol limit")
        var header = WireWriter(capacity: 5)
        header.u8(frame.type)
        header.u32(UInt32(frame.payload.count))
        outBuffer.append(contentsOf: header.bytes)
        outBuffer.append(contentsOf: frame.payload)
        if outBuffer.count >= flushThreshold { try flush() }
    }

    /// Sends what is buffered.
    public func flush() throws {
        guard !outBuffer.isEmpty else { return }
        try outBuffer.withUnsafeBytes { try stream.write($0) }
        bytesSent += outBuffer.count
        outBuffer.removeAll(keepingCapacity: true)
    }

    /// Reads the next frame, flushing first so a request is never left waiting in our buffer.
    /// - Throws: `ProtocolError` `.closed` at a clean end of stream, `.truncated` inside a frame,
    ///   `.tooLarge` for a payload over `maxPayload`.
    public func receive() throws -> Frame {
        try flush()
        let header = try fill(5, atFrameStart: true)
        var r = WireReader(header, peer: peer)
        let type = try r.u8()
        let length = Int(try r.u32())
        guard length <= Self.maxPayload else {
            throw ProtocolError(.tooLarge, peer: peer, detail: "frame of \(length) bytes")
        }
        return Frame(type: type, payload: try fill(length, atFrameStart: false))
    }

    private func fill(_ n: Int, atFrameStart: Bool) throws -> [UInt8] {
        while inEnd - inStart < n {
            if inBuffer.count - inStart < n {
                // Not enough room after the unread bytes: move them to the front, growing the
                // storage first if one frame needs more than it holds.
                let unread = inEnd - inStart
                if inBuffer.count < n {
                    var storage = [UInt8](repeating: 0, count: max(n, inBuffer.count * 2))
                    storage.withUnsafeMutableBytes { dst in
                        inBuffer.withUnsafeBytes { src in
                            dst.baseAddress!.copyMemory(from: src.baseAddress! + inStart, byteCount: unread)
                        }
                    }
                    inBuffer = storage
                } else if unread > 0 {
                    let from = inStart
                    inBuffer.withUnsafeMutableBytes { buf in
                        _ = memmove(buf.baseAddress!, buf.baseAddress! + from, unread)
                    }
                }
                inStart = 0
                inEnd = unread
            }
            let got = try inBuffer.withUnsafeMutableBytes {
                try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[inEnd...]))
            }
            if got == 0 {
                if atFrameStart && inEnd == inStart {
                    throw ProtocolError(.closed, peer: peer, detail: "end of stream")
                }
                throw ProtocolError(.truncated, peer: peer, detail: "stream ended inside a frame")
            }
            inEnd += got
            bytesReceived += got
        }
        defer {
            inStart += n
            if inStart == inEnd { inStart = 0; inEnd = 0 }
        }
        return Array(inBuffer[inStart..<(inStart + n)])
    }
}

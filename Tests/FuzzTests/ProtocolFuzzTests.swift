import Testing
import TreeDiff
@testable import MirrorEngine

/// The replica protocol as the other side could send it: every message's payload decoder, and
/// the frame reader on a byte stream of whole conversations.
@Suite struct ProtocolFuzzTests {
    /// Decodes `payload` as `type`; a decoded message must survive its own re-encoding.
    /// - Returns: whether it decoded. Throws only `ProtocolError`.
    static func decode(_ type: MessageType, _ payload: [UInt8]) throws(ProtocolError) -> Bool {
        func roundTrip<M: Hashable>(_ m: M, _ encode: (M) -> [UInt8], _ decode: ([UInt8]) throws(ProtocolError) -> M) {
            #expect((try? decode(encode(m))) == m, "re-encoding changes a \(type) message")
        }
        switch type {
        case .hello:
            roundTrip(try HelloRequest(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try HelloRequest(b, peer: "fuzz") }
        case .helloReply:
            let m = try HelloReply(payload, peer: "fuzz")
            #expect(m.freeBytes >= 0 && m.partial.values.allSatisfy { $0 >= 0 })
            roundTrip(m, { $0.encoded() }) { b throws(ProtocolError) in try HelloReply(b, peer: "fuzz") }
        case .putObject:
            let m = try PutObject(payload, peer: "fuzz")
            #expect(m.size >= 0 && m.resumeAt >= 0)
            var end: Int64 = 0
            for e in m.extents {
                #expect(e.offset >= end && e.length >= 0 && e.end <= m.size)
                end = e.end
            }
            roundTrip(m, { $0.encoded() }) { b throws(ProtocolError) in try PutObject(b, peer: "fuzz") }
        case .putDelta:
            roundTrip(try PutDelta(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try PutDelta(b, peer: "fuzz") }
        case .getSignature:
            roundTrip(try GetSignature(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try GetSignature(b, peer: "fuzz") }
        case .commit:
            let m = try CommitRequest(payload, peer: "fuzz")
            #expect(m.manifestSize >= 0 && m.manifestSize <= CommitRequest.maxManifest)
            roundTrip(m, { $0.encoded() }) { b throws(ProtocolError) in try CommitRequest(b, peer: "fuzz") }
        case .flushReply:
            roundTrip(try FlushReply(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try FlushReply(b, peer: "fuzz") }
        case .commitReply:
            roundTrip(try CommitReply(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try CommitReply(b, peer: "fuzz") }
        case .error:
            roundTrip(try ErrorReply(payload, peer: "fuzz"), { $0.encoded() }) { b throws(ProtocolError) in try ErrorReply(b, peer: "fuzz") }
        case .getManifest:
            var r = WireReader(payload, peer: "fuzz")
            _ = try r.bool()
        default:
            break
        }
        return true
    }

    static let decoded: [MessageType] = [.hello, .helloReply, .putObject, .putDelta, .getSignature, .commit,
                                         .flushReply, .commitReply, .error]

    @Test(arguments: decoded)
    func messagePayloads(_ type: MessageType) {
        fuzz("message-\(type)", seeds: FuzzSeeds.messages[type]!) { bytes in
            do { return try Self.decode(type, bytes) } catch { return false }
        }
    }

    /// A conversation's bytes: frames of every type, framed by the real `FrameStream`.
    static let conversations: [[UInt8]] = {
        var frames: [Frame] = []
        for type in decoded { for payload in FuzzSeeds.messages[type]! { frames.append(Frame(type: type.rawValue, payload: payload)) } }
        frames.append(Frame(type: MessageType.data.rawValue, payload: FuzzSeeds.compressed[0]))
        frames.append(Frame(type: MessageType.dataEnd.rawValue, payload: []))
        frames.append(Frame(type: MessageType.bye.rawValue, payload: []))
        let sink = MemoryStream(input: [])
        let out = FrameStream(sink, peer: "fuzz")
        for f in frames { try! out.send(f) }
        try! out.flush()
        let short = MemoryStream(input: [])
        let hello = FrameStream(short, peer: "fuzz")
        try! hello.send(Frame(type: MessageType.hello.rawValue, payload: FuzzSeeds.messages[.hello]![0]))
        try! hello.send(Frame(type: MessageType.bye.rawValue, payload: []))
        try! hello.flush()
        return [sink.written, short.written]
    }()

    /// Reads frames from a hostile byte stream (delivered in random-sized reads) until it ends
    /// or breaks, decoding each payload by its type.
    @Test func frameStreams() throws {
        var chunking = SplitMix64(seed: FuzzBudget.seed)
        try fuzz("frame-stream", seeds: Self.conversations) { bytes in
            let stream = MemoryStream(input: bytes, maxRead: 1 + Int(chunking.next() % 700))
            let frames = FrameStream(stream, peer: "fuzz")
            var frameCount = 0
            while true {
                do {
                    let frame = try frames.receive()
                    frameCount += 1
                    #expect(frame.payload.count <= FrameStream.maxPayload)
                    if let type = MessageType(rawValue: frame.type) { _ = try? Self.decode(type, frame.payload) }
                } catch let e as ProtocolError {
                    return e.code == .closed
                }
            }
        }
    }
}

/// An in-memory `ByteStream`: reads hand out `input` in pieces of at most `maxRead` bytes,
/// writes are collected.
final class MemoryStream: ByteStream {
    let input: [UInt8]
    let maxRead: Int
    private var offset = 0
    private(set) var written: [UInt8] = []

    init(input: [UInt8], maxRead: Int = .max) {
        self.input = input
        self.maxRead = maxRead
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, input.count - offset, maxRead)
        guard n > 0 else { return 0 }
        input.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { written.append(contentsOf: bytes) }
}

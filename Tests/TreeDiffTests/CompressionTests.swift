import Foundation
import Testing
@testable import TreeDiff

private func compress(_ data: [UInt8], level: Int, rng: inout SeededRandom, maxPiece: Int = 100_000)
    throws -> (output: [UInt8], largestChunk: Int) {
    let d = try Deflater(level: level)
    return try feedInPieces(data, rng: &rng, maxPiece: maxPiece) { try d.feed($0, isLast: $1, emit: $2) }
}

private func decompress(_ data: [UInt8], limit: Int64, rng: inout SeededRandom, maxPiece: Int = 100_000)
    throws -> (output: [UInt8], largestChunk: Int) {
    let i = try Inflater(maxOutput: limit)
    return try feedInPieces(data, rng: &rng, maxPiece: maxPiece) { try i.feed($0, isLast: $1, emit: $2) }
}

private func code(_ body: () throws -> Void) -> CompressionError.Code? {
    do { try body() } catch let e as CompressionError { return e.code } catch { return nil }
    return nil
}

/// Text-like data: repetitive `key=value` records.
private func textLike(_ n: Int, rng: inout SeededRandom) -> [UInt8] {
    var out: [UInt8] = []
    while out.count < n {
        out += Array("id=\(Int.random(in: 0..<100_000, using: &rng))\nhost=vm\(Int.random(in: 0..<50, using: &rng)).example.com\nstatus=up\n".utf8)
    }
    return Array(out.prefix(n))
}

@Suite struct CompressionTests {
    @Test(arguments: [0, 1, 6, 9])
    func roundTripsRandomTextAndZeros(level: Int) throws {
        var rng = SeededRandom(seed: 0xC0 + UInt64(level))
        for data in [rng.bytes(700_000), textLike(900_000, rng: &rng), [UInt8](repeating: 0, count: 2 << 20), []] {
            let c = try compress(data, level: level, rng: &rng)
            let d = try decompress(c.output, limit: Int64(data.count), rng: &rng)
            #expect(d.output == data)
            #expect(c.largestChunk <= Deflater.outputCapacity && d.largestChunk <= Inflater.outputCapacity)
        }
    }

    @Test func outputChunksAreBoundedByTheFixedBuffer() throws {
        var rng = SeededRandom(seed: 1)
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let c = try compress(zeros, level: 1, rng: &rng, maxPiece: 16 << 20)
        let d = try decompress(c.output, limit: Int64(zeros.count), rng: &rng, maxPiece: 16 << 20)
        #expect(d.output.count == zeros.count)
        #expect(d.largestChunk == Inflater.outputCapacity)
    }

    @Test func systemZlibReadsOurStream() throws {
        var rng = SeededRandom(seed: 2)
        let data = textLike(300_000, rng: &rng)
        let s = try DeltaScratch()
        try s.write("z", try compress(data, level: 1, rng: &rng).output)
        let py = "import sys,zlib; open(sys.argv[2],'wb').write(zlib.decompress(open(sys.argv[1],'rb').read()))"
        #expect(try runTool(["python3", "-c", py, s.path("z"), s.path("out")]) == 0)
        #expect(try s.read("out") == data)
    }

    @Test func corruptDataIsRefused() throws {
        var rng = SeededRandom(seed: 3)
        let data = textLike(200_000, rng: &rng)
        var c = try compress(data, level: 6, rng: &rng).output
        c[c.count / 2] ^= 0x55
        #expect(code { _ = try decompress(c, limit: 1 << 30, rng: &rng) } == .corrupt)
        #expect(code { _ = try decompress(rng.bytes(1000), limit: 1 << 30, rng: &rng) } == .corrupt)
    }

    @Test func truncatedAndTrailingStreamsAreRefused() throws {
        var rng = SeededRandom(seed: 4)
        let c = try compress(rng.bytes(100_000), level: 1, rng: &rng).output
        #expect(code { _ = try decompress(Array(c.dropLast(3)), limit: 1 << 30, rng: &rng) } == .truncated)
        #expect(code { _ = try decompress(c + [1, 2], limit: 1 << 30, rng: &rng) } == .corrupt)
    }

    @Test func decompressionBombIsStoppedAtTheLimit() throws {
        var rng = SeededRandom(seed: 5)
        let bomb = try compress([UInt8](repeating: 0, count: 64 << 20), level: 9, rng: &rng, maxPiece: 64 << 20).output
        #expect(bomb.count < 100_000)
        let inflater = try Inflater(maxOutput: 1 << 20)
        var received: Int64 = 0
        let result = code {
            try bomb.withUnsafeBytes { try inflater.feed($0, isLast: true) { received += Int64($0.count) } }
        }
        #expect(result == .outputLimitExceeded(limit: 1 << 20))
        #expect(received <= 1 << 20)
        #expect(code { try [UInt8]().withUnsafeBytes { try inflater.feed($0, isLast: true) { _ in } } } == .misuse)
    }

    @Test func syncFlushLetsTheReceiverDecodeWhatWasSent() throws {
        var rng = SeededRandom(seed: 6)
        let first = textLike(50_000, rng: &rng)
        let d = try Deflater()
        var wire: [UInt8] = []
        try first.withUnsafeBytes { try d.feed($0, isLast: false) { wire += $0 } }
        try d.flush { wire += $0 }
        let i = try Inflater(maxOutput: 1 << 20)
        var got: [UInt8] = []
        try wire.withUnsafeBytes { try i.feed($0, isLast: false) { got += $0 } }
        #expect(got == first)
        #expect(!i.isFinished)
    }

    @Test func invalidLevelIsRefused() {
        #expect(code { _ = try Deflater(level: 10) } == .invalidLevel(10))
        #expect(code { _ = try Deflater(level: -2) } == .invalidLevel(-2))
    }
}

import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// Signature -> delta -> patch through the streaming API, feeding random-sized pieces.
private func roundTrip(base: [UInt8], new: [UInt8], parameters: DeltaParameters,
                       rng: inout SeededRandom, scratch: DeltaScratch, maxPiece: Int? = nil)
    throws -> (patched: [UInt8], delta: [UInt8], largestChunk: Int, literal: Int64) {
    let maxPiece = maxPiece ?? [1, 7, 4096, 70_000, 1 << 20].randomElement(using: &rng)!
    let sigJob = try SignatureGenerator(parameters: parameters)
    let sig = try feedInPieces(base, rng: &rng, maxPiece: maxPiece) { try sigJob.feed($0, isLast: $1, emit: $2) }
    #expect(sigJob.isFinished)
    #expect(sig.output.count == Int(parameters.signatureSize(forFileSize: Int64(base.count))))

    let loader = try SignatureLoader()
    _ = try feedInPieces(sig.output, rng: &rng, maxPiece: maxPiece) { input, isLast, _ in
        try loader.feed(input, isLast: isLast)
    }
    let signature = try loader.finish()
    #expect(signature.blockLength == parameters.blockLength)
    #expect(signature.strongLength == parameters.strongLength)
    #expect(signature.blockCount == (base.count + parameters.blockLength - 1) / parameters.blockLength)

    let deltaJob = try DeltaGenerator(signature: signature)
    let delta = try feedInPieces(new, rng: &rng, maxPiece: maxPiece) { try deltaJob.feed($0, isLast: $1, emit: $2) }
    #expect(deltaJob.literalBytes + deltaJob.copiedBytes == Int64(new.count))

    let basePath = try scratch.write("base", base)
    let patched = try withFile(basePath, .readOnly) { fd in
        let patcher = try Patcher(base: fd)
        return try feedInPieces(delta.output, rng: &rng, maxPiece: maxPiece) {
            try patcher.feed($0, isLast: $1, emit: $2)
        }
    }
    let largest = max(sig.largestChunk, delta.largestChunk, patched.largestChunk)
    return (patched.output, delta.output, largest, deltaJob.literalBytes)
}

@Suite struct DeltaRoundTripTests {
    @Test(arguments: 0..<24)
    func randomFilesWithRandomEditsRoundTrip(seed: UInt64) throws {
        var rng = SeededRandom(seed: 0xDE17A + seed)
        let scratch = try DeltaScratch()
        let base = rng.bytes(Int.random(in: 0...300_000, using: &rng))
        let new = randomEdits(of: base, rng: &rng)
        let parameters = DeltaParameters(
            blockLength: [256, 1000, 2048, 4096].randomElement(using: &rng)!,
            strongLength: Int.random(in: 8...32, using: &rng))
        let result = try roundTrip(base: base, new: new, parameters: parameters, rng: &rng, scratch: scratch)
        #expect(result.patched == new, "seed \(seed)")
        #expect(result.largestChunk <= JobDriver.outputCapacity)
    }

    @Test func unchangedFileSendsNoLiterals() throws {
        var rng = SeededRandom(seed: 7)
        let scratch = try DeltaScratch()
        let base = rng.bytes(1 << 20)
        let result = try roundTrip(base: base, new: base, parameters: .recommended(forFileSize: 1 << 20),
                                   rng: &rng, scratch: scratch)
        #expect(result.patched == base)
        #expect(result.literal == 0)
        #expect(result.delta.count < 64)
    }

    @Test func outputChunksNeverExceedTheFixedBuffer() throws {
        // 3 MiB of fresh data against an empty base: all literal, so output runs far past 256 KiB.
        var rng = SeededRandom(seed: 11)
        let scratch = try DeltaScratch()
        let new = rng.bytes(3 << 20)
        let result = try roundTrip(base: [], new: new, parameters: DeltaParameters(), rng: &rng,
                                   scratch: scratch, maxPiece: 4 << 20)
        #expect(result.patched == new)
        #expect(result.delta.count > new.count)
        #expect(result.largestChunk == JobDriver.outputCapacity)
    }

    @Test func zeroLengthFiles() throws {
        var rng = SeededRandom(seed: 3)
        let scratch = try DeltaScratch()
        let empty = try roundTrip(base: [], new: [], parameters: DeltaParameters(), rng: &rng, scratch: scratch)
        #expect(empty.patched.isEmpty)
        let grown = try roundTrip(base: [], new: [1, 2, 3], parameters: DeltaParameters(), rng: &rng, scratch: scratch)
        #expect(grown.patched == [1, 2, 3])
        let emptied = try roundTrip(base: rng.bytes(10_000), new: [], parameters: DeltaParameters(),
                                    rng: &rng, scratch: scratch)
        #expect(emptied.patched.isEmpty)
    }

    @Test func fileHelpersRoundTripAndKeepHoles() throws {
        var rng = SeededRandom(seed: 5)
        let scratch = try DeltaScratch()
        var base = [UInt8](repeating: 0, count: 1 << 20)
        base.replaceSubrange(100_000..<110_000, with: rng.bytes(10_000))
        var new = base
        new.replaceSubrange(499_712..<503_808, with: rng.bytes(4096))
        new.append(contentsOf: [UInt8](repeating: 0, count: 303_104))  // whole zero blocks: ends in a hole
        try scratch.write("base", base)
        try scratch.write("new", new)
        let params = DeltaParameters.recommended(forFileSize: Int64(base.count))
        try withFile(scratch.path("base"), .readOnly) { b in
            try withFile(scratch.path("sig"), .writeOnly, create: true) { s in
                try DeltaFiles.signature(of: b, parameters: params) { _ = try s.writeAll($0) }
            }
        }
        let signature = try withFile(scratch.path("sig"), .readOnly) { try DeltaFiles.loadSignature(from: $0) }
        let summary = try withFile(scratch.path("new"), .readOnly) { n in
            try withFile(scratch.path("delta"), .writeOnly, create: true) { d in
                try DeltaFiles.delta(of: n, against: signature) { _ = try d.writeAll($0) }
            }
        }
        #expect(summary.literalBytes == 4096)
        let size = try withFile(scratch.path("base"), .readOnly) { b in
            try withFile(scratch.path("delta"), .readOnly) { d in
                try withFile(scratch.path("out"), .writeOnly, create: true) { o in
                    try DeltaFiles.patch(base: b, delta: d, output: o)
                }
            }
        }
        #expect(size == Int64(new.count))
        #expect(try scratch.read("out") == new)
        let allocated = try FileManager.default.attributesOfItem(atPath: scratch.path("out"))
        #expect(allocated[.size] as? Int == new.count)
        var st = stat()
        #expect(stat(scratch.path("out"), &st) == 0)
        #expect(Int(st.st_blocks) * 512 < 200_000, "zero pages were written instead of left as holes")
    }
}

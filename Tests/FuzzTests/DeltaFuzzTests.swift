import Foundation
import SystemPackage
import Testing
import TestSupport
import TreeDiff

/// What librsync and zlib read from the other side: signatures (the master loads the replica's),
/// deltas (the replica applies the master's) and compressed data frames.
@Suite struct DeltaFuzzTests {
    /// The patched output a delta may produce before the fuzzer calls it an amplification bug.
    static let outputCap = 256 << 20
    struct OutputCap: Error {}

    /// Loads a signature; when it loads, a delta of the new file is made against it (what the
    /// master does with a replica's signature) and must be bounded too.
    @Test func signatures() throws {
        try fuzz("signature", seeds: FuzzSeeds.signatures) { bytes in
            let signature: Signature
            do { signature = try bytes.withUnsafeBytes { try Signature.load($0) } } catch is DeltaError { return false }
            #expect(signature.blockLength > 0 && signature.strongLength > 0)
            do {
                let job = try DeltaGenerator(signature: signature)
                var produced = 0
                try FuzzSeeds.deltaNew.withUnsafeBytes { raw in
                    try job.feed(raw, isLast: true) { chunk in
                        produced += chunk.count
                        if produced > Self.outputCap { throw OutputCap() }
                    }
                }
            } catch is DeltaError {
                return false
            }
            return true
        }
    }

    /// Applies a delta to the real base file (read with pread, as the replica does).
    @Test func deltas() throws {
        let scratch = try ScratchDirectory(prefix: "cm-fuzz-delta")
        let basePath = scratch.file("base")
        try Data(FuzzSeeds.deltaBase).write(to: URL(fileURLWithPath: basePath))
        let base = try FileDescriptor.open(basePath, .readOnly)
        defer { try? base.close() }
        var split = SplitMix64(seed: FuzzBudget.seed)
        try fuzz("delta", seeds: FuzzSeeds.deltas) { bytes in
            let patcher = try Patcher(base: base)
            var produced = 0
            let cut = bytes.isEmpty ? 0 : Int(split.next() % UInt64(bytes.count + 1))
            do {
                try bytes.withUnsafeBytes { raw in
                    let emit: (UnsafeRawBufferPointer) throws -> Void = { chunk in
                        produced += chunk.count
                        if produced > Self.outputCap { throw OutputCap() }
                    }
                    try patcher.feed(UnsafeRawBufferPointer(rebasing: raw[..<cut]), isLast: false, emit: emit)
                    try patcher.feed(UnsafeRawBufferPointer(rebasing: raw[cut...]), isLast: true, emit: emit)
                }
            } catch is DeltaError {
                return false
            }
            return true
        }
    }

    /// Decompresses a data stream, fed in two pieces, under an output limit.
    @Test func compressedData() throws {
        var split = SplitMix64(seed: FuzzBudget.seed)
        try fuzz("inflate", seeds: FuzzSeeds.compressed) { bytes in
            let inflater = try Inflater(maxOutput: 1 << 20)
            let cut = bytes.isEmpty ? 0 : Int(split.next() % UInt64(bytes.count + 1))
            var produced = 0
            do {
                try bytes.withUnsafeBytes { raw in
                    try inflater.feed(UnsafeRawBufferPointer(rebasing: raw[..<cut]), isLast: false) { produced += $0.count }
                    try inflater.feed(UnsafeRawBufferPointer(rebasing: raw[cut...]), isLast: true) { produced += $0.count }
                }
            } catch is CompressionError {
                return false
            }
            #expect(produced <= 1 << 20 && inflater.isFinished)
            return true
        }
    }
}

import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// Our streams against the real `rdiff` 2.3.2 binary, both ways.
@Suite struct RdiffInteropTests {
    /// Writes a seeded base and an edited new file; returns the scratch dir.
    private func files(seed: UInt64) throws -> (DeltaScratch, [UInt8], [UInt8]) {
        var rng = SeededRandom(seed: seed)
        let scratch = try DeltaScratch()
        let base = rng.bytes(Int.random(in: 1...400_000, using: &rng))
        let new = randomEdits(of: base, rng: &rng)
        try scratch.write("base", base)
        try scratch.write("new", new)
        return (scratch, base, new)
    }

    private func ourSignature(_ s: DeltaScratch, _ p: DeltaParameters) throws {
        try withFile(s.path("base"), .readOnly) { b in
            try withFile(s.path("our.sig"), .writeOnly, create: true) { out in
                try DeltaFiles.signature(of: b, parameters: p) { _ = try out.writeAll($0) }
            }
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func ourSignatureIsByteIdenticalToRdiffs(seed: UInt64) throws {
        let (s, _, _) = try files(seed: 0x51_6000 + seed)
        let p = DeltaParameters(blockLength: [512, 2048, 4096][Int(seed) % 3], strongLength: 32)
        try ourSignature(s, p)
        #expect(try runTool(["rdiff", "-b", "\(p.blockLength)", "-S", "32", "signature",
                             s.path("base"), s.path("rdiff.sig")]) == 0)
        #expect(try s.read("our.sig") == s.read("rdiff.sig"))
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func rdiffPatchAppliesOurDeltaToRdiffsSignature(seed: UInt64) throws {
        let (s, _, new) = try files(seed: 0xA_0000 + seed)
        #expect(try runTool(["rdiff", "-b", "1024", "-S", "16", "signature", s.path("base"), s.path("rdiff.sig")]) == 0)
        let sig = try withFile(s.path("rdiff.sig"), .readOnly) { try DeltaFiles.loadSignature(from: $0) }
        #expect(sig.blockLength == 1024 && sig.strongLength == 16 && sig.format == .rabinKarpBlake2)
        try withFile(s.path("new"), .readOnly) { n in
            try withFile(s.path("our.delta"), .writeOnly, create: true) { d in
                try DeltaFiles.delta(of: n, against: sig) { _ = try d.writeAll($0) }
            }
        }
        #expect(try runTool(["rdiff", "patch", s.path("base"), s.path("our.delta"), s.path("out")]) == 0)
        #expect(try s.read("out") == new)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func wePatchWithRdiffsDeltaOfOurSignature(seed: UInt64) throws {
        let (s, _, new) = try files(seed: 0xB_0000 + seed)
        try ourSignature(s, .recommended(forFileSize: 400_000))
        #expect(try runTool(["rdiff", "delta", s.path("our.sig"), s.path("new"), s.path("rdiff.delta")]) == 0)
        try withFile(s.path("base"), .readOnly) { b in
            try withFile(s.path("rdiff.delta"), .readOnly) { d in
                try withFile(s.path("out"), .writeOnly, create: true) { o in
                    _ = try DeltaFiles.patch(base: b, delta: d, output: o)
                }
            }
        }
        #expect(try s.read("out") == new)
    }

    @Test func rdiffsDefaultSignatureLoads() throws {
        // No -b/-S: rdiff picks the block length from the size and 32-byte BLAKE2 sums.
        let (s, base, _) = try files(seed: 0xC_0001)
        #expect(try runTool(["rdiff", "signature", s.path("base"), s.path("rdiff.sig")]) == 0)
        let sig = try withFile(s.path("rdiff.sig"), .readOnly) { try DeltaFiles.loadSignature(from: $0) }
        #expect(sig.format == .rabinKarpBlake2)
        #expect(sig.strongLength == DeltaParameters().strongLength)
        #expect(sig.blockCount == (base.count + sig.blockLength - 1) / sig.blockLength)
    }
}

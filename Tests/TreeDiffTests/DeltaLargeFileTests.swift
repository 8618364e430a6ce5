import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// A sparse image past 2 GiB (offsets beyond 31 bits), made with ftruncate and a few writes so
/// the test stays fast; the whole pipeline streams it and keeps its holes. (Memory against file
/// size is measured by `cloudmin-bench delta`, not here: the test process runs other suites in
/// parallel, so its peak RSS says nothing about this pipeline.)
@Suite(.serialized) struct DeltaLargeFileTests {
    static let size: Int64 = (2 << 30) + 123_457

    private func makeSparse(_ path: String, writes: [(Int64, [UInt8])]) throws {
        try withFile(path, .readWrite, create: true) { fd in
            try fd.resize(to: Self.size)
            for (offset, bytes) in writes { _ = try fd.writeAll(toAbsoluteOffset: offset, bytes) }
        }
    }

    @Test func multiGiBSparseImageRoundTrips() throws {
        var rng = SeededRandom(seed: 0x5BA45E)
        let s = try DeltaScratch()
        let common: [(Int64, [UInt8])] = [(0, rng.bytes(4096)), (1 << 31, rng.bytes(8192)),
                                          (Self.size - 5000, rng.bytes(5000))]
        let changes: [(Int64, [UInt8])] = [(12_288, rng.bytes(4096)), ((1 << 31) + 16_384, rng.bytes(4096)),
                                           (1 << 30, rng.bytes(100))]
        try makeSparse(s.path("base"), writes: common)
        try makeSparse(s.path("new"), writes: common + changes)

        let params = DeltaParameters.recommended(forFileSize: Self.size)
        #expect(params.blockLength == 4096)
        try withFile(s.path("base"), .readOnly) { b in
            try withFile(s.path("sig"), .writeOnly, create: true) { out in
                try DeltaFiles.signature(of: b, parameters: params) { _ = try out.writeAll($0) }
            }
        }
        let sig = try withFile(s.path("sig"), .readOnly) { try DeltaFiles.loadSignature(from: $0) }
        #expect(sig.blockCount == Int((Self.size + 4095) / 4096))
        let summary = try withFile(s.path("new"), .readOnly) { n in
            try withFile(s.path("delta"), .writeOnly, create: true) { d in
                try DeltaFiles.delta(of: n, against: sig) { _ = try d.writeAll($0) }
            }
        }
        // Three changed spots, each within one or two 4 KiB blocks (plus the unaligned tail).
        #expect(summary.literalBytes <= 7 * 4096)
        #expect(summary.literalBytes + summary.copiedBytes == Self.size)
        let written = try withFile(s.path("base"), .readOnly) { b in
            try withFile(s.path("delta"), .readOnly) { d in
                try withFile(s.path("out"), .writeOnly, create: true) { o in
                    try DeltaFiles.patch(base: b, delta: d, output: o)
                }
            }
        }
        #expect(written == Self.size)
        #expect(try runTool(["cmp", "-s", s.path("new"), s.path("out")]) == 0)
        var out = stat(), source = stat()
        #expect(stat(s.path("out"), &out) == 0 && stat(s.path("new"), &source) == 0)
        #expect(out.st_blocks <= source.st_blocks, "patched image lost its holes")
    }
}

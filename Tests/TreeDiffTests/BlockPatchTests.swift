import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// A sparse file: `pieces` written at their offsets, the rest holes.
private func writeSparse(_ path: String, size: Int64, _ pieces: [(Int64, [UInt8])]) throws {
    try withFile(path, .readWrite, create: true) { fd in
        for (offset, bytes) in pieces { _ = try fd.writeAll(toAbsoluteOffset: offset, bytes) }
        try fd.resize(to: size)
    }
}

private func digestOf(_ path: String) throws -> FileDigestResult {
    try withFile(path, .readOnly) { fd in
        let size = try fd.seek(offset: 0, from: .end)
        return try FileDigester.digest(of: fd, size: size)
    }
}

private func allocated(_ path: String) throws -> Int64 {
    var st = stat()
    #expect(stat(path, &st) == 0)
    return Int64(st.st_blocks) * 512
}

/// Plans a patch from `base` to `target` and applies it onto `base`, returning the patch,
/// the planner's summary and the rebuilt file's path.
private func roundTrip(_ scratch: DeltaScratch, base: String, target: String, feedPiece: Int = 1 << 16)
    throws -> (patch: [UInt8], summary: BlockPatchSummary, output: String, outputDigest: ContentDigest) {
    let baseSize = try withFile(base, .readOnly) { try $0.seek(offset: 0, from: .end) }
    let baseMap = try withFile(base, .readOnly) { try BlockMap.build(fd: $0.rawValue, size: baseSize, context: base) }
    let targetScan = try digestOf(target)
    let targetSize = try withFile(target, .readOnly) { try $0.seek(offset: 0, from: .end) }
    var patch: [UInt8] = []
    let summary = try withFile(target, .readOnly) { fd in
        try BlockPatchPlanner.plan(fd: fd.rawValue, size: targetSize, extents: targetScan.extents, base: baseMap,
                                   context: target) { patch.append(contentsOf: $0) }
    }
    let output = scratch.path("out-\(UUID().uuidString)")
    let digest = try withFile(base, .readOnly) { baseFD in
        try withFile(output, .readWrite, create: true) { outFD in
            let applier = try BlockPatchApplier(base: baseFD, output: outFD, size: targetSize, context: "test")
            var offset = 0
            while offset < patch.count {
                let end = min(patch.count, offset + feedPiece)
                try patch[offset..<end].withUnsafeBytes { try applier.feed($0) }
                offset = end
            }
            return try applier.finish()
        }
    }
    return (patch, summary, output, digest)
}

@Suite("Block patches for large files")
struct BlockPatchTests {
    @Test("the map's digest is the content digest, sparse or dense, any size", arguments: [0, 1, 4095, 4096, 1 << 20, (1 << 20) + 7, 3 << 20])
    func mapDigestMatchesContentDigest(size: Int) throws {
        let scratch = try DeltaScratch()
        var rng = SeededRandom(seed: UInt64(size) + 1)
        let dense = try scratch.write("dense", rng.bytes(size))
        let sparse = scratch.path("sparse")
        try writeSparse(sparse, size: Int64(size) + (2 << 20), size > 0 ? [(Int64(1 << 20) + 100, rng.bytes(min(size, 9000)))] : [])
        for path in [dense, sparse] {
            let expected = try digestOf(path)
            let size = try withFile(path, .readOnly) { try $0.seek(offset: 0, from: .end) }
            let map = try withFile(path, .readOnly) { try BlockMap.build(fd: $0.rawValue, size: size, context: path) }
            #expect(map.digest == expected.digest)
            #expect(map.chunks.count == BlockMap.chunkCount(size: size))
            #expect(try BlockMap(decoding: map.encoded(), context: "t") == map)
        }
    }

    @Test("scattered 4 KiB rewrites of a sparse image ship as those blocks only")
    func scatteredBlocks() throws {
        let scratch = try DeltaScratch()
        var rng = SeededRandom(seed: 7)
        let size: Int64 = 64 << 20
        // Base: 64 KiB data runs every 2 MiB, holes between.
        var pieces: [(Int64, [UInt8])] = []
        for k in 0..<32 { pieces.append((Int64(k) * (2 << 20) + 8192, rng.bytes(64 << 10))) }
        let base = scratch.path("base")
        try writeSparse(base, size: size, pieces)
        // Target: 40 blocks rewritten inside the data, one run zeroed, one new run in a hole, grown by 5 KiB.
        var changed = pieces
        var rewritten = Set<Int64>()
        while rewritten.count < 40 {
            let k = Int(rng.next() % 32)
            if k == 3 { continue }  // run 3 is zeroed below
            let block = Int64(rng.next() % 16)
            let offset = changed[k].0 + block * 4096
            guard rewritten.insert(offset).inserted else { continue }
            changed.append((offset, rng.bytes(4096)))
        }
        changed.append((Int64(41 << 20) + 12288, rng.bytes(8192)))  // odd MiB: a hole in the base
        let target = scratch.path("target")
        try writeSparse(target, size: size + 5120, changed)
        try withFile(target, .readWrite) { fd in _ = try fd.writeAll(toAbsoluteOffset: pieces[3].0, [UInt8](repeating: 0, count: 64 << 10)) }

        let r = try roundTrip(scratch, base: base, target: target)
        let expected = try digestOf(target)
        #expect(r.outputDigest == expected.digest)
        #expect(r.summary.map.digest == expected.digest)
        #expect(try scratch.read(r.output.split(separator: "/").last.map(String.init)!) == (try scratch.read("target")))
        // Data shipped: the rewritten blocks and the new run, nothing else.
        #expect(r.summary.dataBytes == Int64(40 * 4096 + 8192))
        #expect(r.patch.count < 40 * 4096 + 8192 + 4096)
        // Only data extents were read, and the rebuilt file stays sparse.
        let targetAllocated = try allocated(target)
        let outputAllocated = try allocated(r.output)
        #expect(r.summary.bytesRead <= targetAllocated)
        #expect(outputAllocated <= targetAllocated + (64 << 10))
    }

    @Test("patches hold up for random edits, shrinking and growing, fed in any piece size")
    func randomEdits() throws {
        let scratch = try DeltaScratch()
        for seed in UInt64(1)...12 {
            var rng = SeededRandom(seed: seed)
            let baseSize = Int(rng.next() % (3 << 20)) + 1
            let baseBytes = rng.bytes(baseSize)
            var target = baseBytes
            for _ in 0..<Int(rng.next() % 20) {
                let at = Int(rng.next() % UInt64(target.count))
                let n = min(target.count - at, Int(rng.next() % 10000) + 1)
                target.replaceSubrange(at..<(at + n), with: rng.bytes(n))
            }
            if rng.next() % 2 == 0 { target += rng.bytes(Int(rng.next() % 70000)) } else { target.removeLast(Int(rng.next() % UInt64(target.count))) }
            let base = try scratch.write("base\(seed)", baseBytes)
            let targetPath = try scratch.write("target\(seed)", target)
            let r = try roundTrip(scratch, base: base, target: targetPath, feedPiece: Int(rng.next() % 5000) + 1)
            #expect(r.outputDigest == (try digestOf(targetPath)).digest, "seed \(seed)")
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: r.output))) == target, "seed \(seed)")
        }
    }

    @Test("malformed patch streams are refused")
    func malformedStreams() throws {
        let scratch = try DeltaScratch()
        let base = try scratch.write("base", [UInt8](repeating: 1, count: 10000))
        func apply(_ stream: [UInt8], size: Int64) throws -> ContentDigest {
            try withFile(base, .readOnly) { b in
                try withFile(scratch.path("o"), .readWrite, create: true) { o in
                    let a = try BlockPatchApplier(base: b, output: o, size: size, context: "t")
                    try stream.withUnsafeBytes { try a.feed($0) }
                    return try a.finish()
                }
            }
        }
        func code(_ body: () throws -> Void) -> BlockError.Code? {
            do { try body(); return nil } catch let e as BlockError { return e.code } catch { return nil }
        }
        #expect(code { _ = try apply([9, 1], size: 10) } == .badPatch)          // unknown op
        #expect(code { _ = try apply([1, 11], size: 10) } == .badPatch)         // copy past the size
        #expect(code { _ = try apply([1, 0], size: 10) } == .badPatch)          // empty run
        #expect(code { _ = try apply([2, 5, 1, 2], size: 5) } == .badPatch)     // data cut short
        #expect(code { _ = try apply([3, 4], size: 5) } == .badPatch)           // ends before the size
        #expect(code { _ = try apply([2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], size: 5) } == .badPatch)
        #expect(try apply([1, 3, 3, 2], size: 5) != ContentDigest(bytes: [UInt8](repeating: 0, count: 32))!)
    }

    @Test("a damaged block map is refused")
    func damagedMap() throws {
        let scratch = try DeltaScratch()
        var rng = SeededRandom(seed: 3)
        let path = try scratch.write("f", rng.bytes(3 << 20))
        let map = try withFile(path, .readOnly) { try BlockMap.build(fd: $0.rawValue, size: 3 << 20, context: path) }
        let good = map.encoded()
        for i in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
            var bad = good
            bad[i] ^= 0x40
            #expect(throws: BlockError.self) { _ = try BlockMap(decoding: bad, context: "t") }
        }
        #expect(throws: BlockError.self) { _ = try BlockMap(decoding: Array(good.dropLast(5)), context: "t") }
    }
}

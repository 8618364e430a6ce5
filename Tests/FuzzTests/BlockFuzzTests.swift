import Foundation
import SystemPackage
import Testing
import TestSupport
import TreeDiff

/// What the block-patch path reads from the other side: block maps (the master loads the
/// replica's, and its own cache from disk) and block patch streams (the replica applies them).
@Suite struct BlockFuzzTests {
    /// A base file and a target 3 MiB long with holes, and the patch between them.
    final class Material {
        let scratch: ScratchDirectory
        let basePath: String
        let map: [UInt8]
        let patch: [UInt8]
        let targetSize: Int64

        init() throws {
            scratch = try ScratchDirectory(prefix: "cm-fuzz-block")
            var rng = SplitMix64(seed: 41)
            func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            basePath = scratch.file("base")
            let base = bytes(1 << 20) + [UInt8](repeating: 0, count: 1 << 20) + bytes(1 << 20)
            try Data(base).write(to: URL(fileURLWithPath: basePath))
            var target = base
            for k in stride(from: 0, to: target.count, by: 300_000) { target.replaceSubrange(k..<(k + 4096), with: bytes(4096)) }
            let targetPath = scratch.file("target")
            try Data(target).write(to: URL(fileURLWithPath: targetPath))
            targetSize = Int64(target.count)
            let baseFD = try FileDescriptor.open(basePath, .readOnly)
            defer { try? baseFD.close() }
            let baseMap = try BlockMap.build(fd: baseFD.rawValue, size: Int64(base.count), context: "base")
            map = baseMap.encoded()
            let targetFD = try FileDescriptor.open(targetPath, .readOnly)
            defer { try? targetFD.close() }
            var out: [UInt8] = []
            _ = try BlockPatchPlanner.plan(fd: targetFD.rawValue, size: targetSize, extents: [], base: baseMap, context: "target") {
                out.append(contentsOf: $0)
            }
            patch = out
        }
    }

    @Test func blockMaps() throws {
        let m = try Material()
        try fuzz("block-map", seeds: [m.map]) { bytes in
            do {
                let map = try BlockMap(decoding: bytes, context: "fuzz")
                #expect(map.chunks.count == BlockMap.chunkCount(size: map.size))
                #expect(map.encoded() == bytes)
                return true
            } catch is BlockError {
                return false
            }
        }
    }

    /// Applies mutated patches to the real base: each either rebuilds a file of exactly the
    /// announced size or is refused; the output never grows past that size.
    @Test func blockPatches() throws {
        let m = try Material()
        let base = try FileDescriptor.open(m.basePath, .readOnly)
        defer { try? base.close() }
        let outPath = m.scratch.file("out")
        var split = SplitMix64(seed: FuzzBudget.seed)
        try fuzz("block-patch", seeds: [m.patch], iterations: max(1, FuzzBudget.iterations / 4)) { bytes in
            let out = try FileDescriptor.open(outPath, .readWrite, options: [.create, .truncate], permissions: [.ownerReadWrite])
            defer { try? out.close() }
            let applier = try BlockPatchApplier(base: base, output: out, size: m.targetSize, context: "fuzz")
            let cut = bytes.isEmpty ? 0 : Int(split.next() % UInt64(bytes.count + 1))
            do {
                try bytes.withUnsafeBytes { raw in
                    try applier.feed(UnsafeRawBufferPointer(rebasing: raw[..<cut]))
                    try applier.feed(UnsafeRawBufferPointer(rebasing: raw[cut...]))
                }
                _ = try applier.finish()
            } catch is BlockError {
                #expect(try out.seek(offset: 0, from: .end) <= m.targetSize)
                return false
            }
            #expect(try out.seek(offset: 0, from: .end) == m.targetSize)
            return true
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

@Suite struct DigestTests {
    /// Hashes bytes in one call.
    func digest(_ bytes: [UInt8]) -> ContentDigest {
        var hasher = ContentHasher()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    @Test func matchesTheDefinition() {
        // SHA256("cmdg1" || UInt64(size) LE || SHA256(chunk)...) computed independently.
        let content = testBytes(ContentHasher.chunkSize + 1000)
        var outer = SHA256()
        outer.update(data: Array("cmdg1".utf8))
        withUnsafeBytes(of: UInt64(content.count).littleEndian) { outer.update(data: Array($0)) }
        outer.update(data: Array(SHA256.hash(data: content[..<ContentHasher.chunkSize])))
        outer.update(data: Array(SHA256.hash(data: content[ContentHasher.chunkSize...])))
        #expect(digest(content).bytes == Array(outer.finalize()))

        var empty = SHA256()
        empty.update(data: Array("cmdg1".utf8) + [UInt8](repeating: 0, count: 8))
        #expect(digest([]).bytes == Array(empty.finalize()))
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let content = testBytes(3 * ContentHasher.chunkSize + 77, seed: 2)
        var hasher = ContentHasher()
        var offset = 0
        for piece in [1, 4095, ContentHasher.chunkSize, 3, 2 * ContentHasher.chunkSize] {
            let end = min(offset + piece, content.count)
            content[offset..<end].withUnsafeBytes { hasher.update($0) }
            offset = end
        }
        content[offset...].withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == digest(content))
    }

    @Test func zerosFedAsHolesEqualZeroBytes() {
        // Holes at unaligned offsets, spanning whole chunks and ending mid-chunk.
        let head = testBytes(1234, seed: 3), tail = testBytes(99, seed: 4)
        let zeroCount = 3 * ContentHasher.chunkSize + 17
        var sparse = ContentHasher()
        head.withUnsafeBytes { sparse.update($0) }
        sparse.updateZeros(count: Int64(zeroCount))
        tail.withUnsafeBytes { sparse.update($0) }
        sparse.updateZeros(count: 5)
        #expect(sparse.finalize() == digest(head + [UInt8](repeating: 0, count: zeroCount) + tail + [0, 0, 0, 0, 0]))

        var aligned = ContentHasher()
        aligned.updateZeros(count: Int64(2 * ContentHasher.chunkSize))
        #expect(aligned.finalize() == digest([UInt8](repeating: 0, count: 2 * ContentHasher.chunkSize)))
    }

    @Test func anyOneByteChangeChangesTheDigest() {
        let content = testBytes(2 * ContentHasher.chunkSize + 10, seed: 5)
        let original = digest(content)
        var seen: Set<ContentDigest> = [original]
        for position in [0, 1, ContentHasher.chunkSize - 1, ContentHasher.chunkSize, content.count - 1] {
            var changed = content
            changed[position] &+= 1
            seen.insert(digest(changed))
        }
        seen.insert(digest(content + [0]))  // one more byte, even a zero
        seen.insert(digest(Array(content.dropLast())))
        #expect(seen.count == 8)
    }

    @Test func hexAndJSONRoundTrip() throws {
        let d = digest(Array("hello".utf8))
        #expect(d.description.count == 64)
        #expect(ContentDigest(hex: d.description) == d)
        #expect(ContentDigest(hex: d.description.uppercased()) == d)
        #expect(ContentDigest(hex: "zz") == nil)
        let json = try JSONEncoder().encode([d])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(d.description)\"]")
        #expect(try JSONDecoder().decode([ContentDigest].self, from: json) == [d])
    }

    @Test func sparseFileDigestsLikeItsDenseCopy() throws {
        let tree = try TestTree()
        try tree.mkdir("data")
        let size: Int64 = 5 * Int64(ContentHasher.chunkSize) + 4321
        let runs: [(offset: Int64, bytes: [UInt8])] = [
            (100, testBytes(5000, seed: 6)),
            (3 * Int64(ContentHasher.chunkSize) - 10, testBytes(70000, seed: 7)),
        ]
        try tree.writeSparse("data/sparse.img", size: size, data: runs)
        var dense = [UInt8](repeating: 0, count: Int(size))
        for run in runs { dense.replaceSubrange(Int(run.offset)..<Int(run.offset) + run.bytes.count, with: run.bytes) }
        try tree.write("data/dense.img", dense)

        let sparseFD = try FileDescriptor.open(tree.absolute("data/sparse.img"), .readOnly)
        defer { try? sparseFD.close() }
        let denseFD = try FileDescriptor.open(tree.absolute("data/dense.img"), .readOnly)
        defer { try? denseFD.close() }
        let sparse = try FileDigester.digest(of: sparseFD, size: size)
        let full = try FileDigester.digest(of: denseFD, size: size)
        #expect(sparse.digest == full.digest)
        #expect(sparse.digest == digest(dense))
        #expect(full.extents.isEmpty)
        try #require(!sparse.extents.isEmpty)
        #expect(sparse.bytesRead < size / 2)
        // Every data byte lies inside a recorded extent.
        for run in runs {
            #expect(sparse.extents.contains { $0.offset <= run.offset && run.offset + Int64(run.bytes.count) <= $0.end })
        }
    }

    @Test func aFileThatIsAllHoleIsNotRecordedAsDense() throws {
        let tree = try TestTree()
        try tree.writeSparse("empty.img", size: 10 << 30, data: [])
        let fd = try FileDescriptor.open(tree.absolute("empty.img"), .readOnly)
        defer { try? fd.close() }
        let result = try FileDigester.digest(of: fd, size: 10 << 30, allocatedBytes: 0)
        #expect(result.extents == [DataExtent.allHole])
        #expect(result.bytesRead == 0)
        var zeros = ContentHasher()
        zeros.updateZeros(count: 10 << 30)
        #expect(result.digest == zeros.finalize())

        let entry = ManifestEntry(path: "empty.img", kind: .file, size: 10 << 30, mode: 0o644, mtimeNs: 1,
                                  extents: result.extents, digest: result.digest)
        let manifest = try Manifest(entries: [entry])
        #expect(try Manifest(decoding: manifest.encoded())["empty.img"]?.extents == [DataExtent.allHole])
    }

    @Test func hugeSparseFileHashesWithoutReadingItsHoles() throws {
        let tree = try TestTree()
        try tree.mkdir("data")
        let size: Int64 = 64 << 30
        let data = testBytes(4096, seed: 8)
        try tree.writeSparse("data/big.img", size: size, data: [(40 << 30, data)])
        let fd = try FileDescriptor.open(tree.absolute("data/big.img"), .readOnly)
        defer { try? fd.close() }
        let result = try FileDigester.digest(of: fd, size: size)
        #expect(result.bytesRead < 1 << 20)

        var expected = ContentHasher()
        expected.updateZeros(count: 40 << 30)
        data.withUnsafeBytes { expected.update($0) }
        expected.updateZeros(count: size - (40 << 30) - 4096)
        #expect(result.digest == expected.finalize())
    }
}

import Foundation
@testable import MirrorEngine
import SystemPackage
import TestSupport
import Testing
import TreeDiff

/// Large images through the engine: the first copy sends their data only, a change sends
/// the changed blocks only, with or without the master's cached block map.
@Suite struct BlockPatchRunTests {
    static let image = "var/cloudmin/images/big.img"
    static let size: Int64 = 64 << 20

    /// Writes `pieces` into the image (creating it sparse at `size` if missing).
    static func write(_ root: String, _ pieces: [(Int64, [UInt8])]) throws {
        let path = root + "/" + image
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = try FileDescriptor.open(FilePath(path), .readWrite, options: [.create], permissions: [.ownerReadWrite])
        defer { try? fd.close() }
        for (offset, bytes) in pieces { _ = try fd.writeAll(toAbsoluteOffset: offset, bytes) }
        try fd.resize(to: size)
    }

    static func random(_ n: Int, _ seed: inout UInt64) -> [UInt8] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
    }

    @Test func aChangedImageShipsItsChangedBlocksOnly() throws {
        let pair = try LocalReplicaPair()
        var seed: UInt64 = 11
        try Self.write(pair.masterRoot, (0..<16).map { (Int64($0) * (4 << 20), Self.random(256 << 10, &seed)) })
        let first = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(first.ok, "\(first.error ?? "")")
        // 4 MiB of data in a 64 MiB image: the holes are not sent (compressed random data ~ its size).
        #expect(first.bytesSent < 6 << 20)

        try Self.write(pair.masterRoot, (0..<10).map { (Int64($0) * (4 << 20) + 8192, Self.random(4096, &seed)) })
        let second = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(second.ok, "\(second.error ?? "")")
        #expect(second.deltasSent == 1)
        #expect(second.bytesSent < 10 * 4096 + (64 << 10))
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func withoutTheMastersMapTheReplicasIsUsed() throws {
        let pair = try LocalReplicaPair()
        var seed: UInt64 = 5
        try Self.write(pair.masterRoot, [(0, Self.random(1 << 20, &seed)), (Int64(32 << 20), Self.random(1 << 20, &seed))])
        #expect(try #require(try pair.mirrorRun().run(RunOptions()).replicas.first).ok)
        // The master's state lost its caches (restored from an old backup, say).
        let signatures = try pair.master.stateDirectory + "/master/signatures"
        try FileManager.default.removeItem(atPath: signatures)
        try FileManager.default.createDirectory(atPath: signatures, withIntermediateDirectories: true)

        try Self.write(pair.masterRoot, [(Int64(32 << 20) + 4096, Self.random(4096, &seed))])
        let r = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(r.deltasSent == 1)
        #expect(r.bytesSent < 64 << 10)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func filesWithNoDataAtAllAreCopied() throws {
        let pair = try LocalReplicaPair()
        for (name, size) in [("empty-big.img", Int64(64 << 20)), ("empty-small.img", Int64(100 << 10))] {
            let path = pair.masterRoot + "/var/cloudmin/images/" + name
            let fd = try FileDescriptor.open(FilePath(path), .readWrite, options: [.create], permissions: [.ownerReadWrite])
            try fd.resize(to: size)
            try fd.close()
        }
        let r = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func twoReplicasGetTheSamePatch() throws {
        let pair = try LocalReplicaPair(replicas: ["r1", "r2"])
        var seed: UInt64 = 9
        try Self.write(pair.masterRoot, [(0, Self.random(2 << 20, &seed))])
        #expect(try pair.mirrorRun().run(RunOptions()).replicas.allSatisfy(\.ok))
        try Self.write(pair.masterRoot, [(8192, Self.random(4096, &seed))])
        let results = try pair.mirrorRun().run(RunOptions()).replicas
        for r in results {
            #expect(r.ok, "\(r.error ?? "")")
            #expect(r.deltasSent == 1)
            #expect(try pair.replicaManifest(r.name).treeDigest == pair.masterManifest().treeDigest)
        }
    }
}

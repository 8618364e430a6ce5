import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

@Suite struct ReplicaObjectStoreTests {
    /// A master file and its scanned entry.
    func masterFile(sparse: Bool) throws -> (ReplicaTempDir, String, ManifestEntry) {
        let dir = try ReplicaTempDir("obj")
        let path = try dir.sub("t") + "/f"
        if sparse {
            try TreeBuild.sparse(path, size: 6 << 20, data: [(0, 1), (2 << 20, 2), (5 << 20, 3)])
        } else {
            var bytes = [UInt8](repeating: 0, count: 3 << 20 + 123)
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let entry = try #require(ReplicaHarness.scan(dir.path, ["t"])["t/f"])
        return (dir, path, entry)
    }

    @Test(arguments: [false, true])
    func resumesAfterSuspend(sparse: Bool) throws {
        let (dir, path, entry) = try masterFile(sparse: sparse)
        if sparse { #expect(entry.extents.count == 3) }
        let store = try ObjectStore(directory: try dir.sub("objects"))
        let digest = try #require(entry.digest)

        let first = try store.begin(digest, size: entry.size, extents: entry.extents, resumeAt: 0)
        let half = first.dataBytes / 2 + 7
        try ReplicaHarness.feed(path, extents: first.extents, skipping: 0, upTo: half, to: first)
        first.suspend()
        let inventory = try store.inventory()
        #expect(inventory.partial[digest] == half)
        #expect(!inventory.complete.contains(digest) && !store.has(digest))

        let second = try store.begin(digest, size: entry.size, extents: entry.extents, resumeAt: half)
        try ReplicaHarness.feed(path, extents: second.extents, skipping: half, to: second)
        try second.finish()
        #expect(store.has(digest))
        #expect(try store.inventory().complete == [digest])
        #expect(try store.inventory().partial.isEmpty)
        // The object is the master's file: same digest, same holes.
        let objects = try ReplicaHarness.scan(dir.path, ["objects"])
        let object = try #require(objects["objects/\(digest)"])
        #expect(object.digest == digest && object.size == entry.size && object.extents == entry.extents)
    }

    @Test func shortOrOverlongDataIsRefused() throws {
        let (dir, path, entry) = try masterFile(sparse: false)
        let store = try ObjectStore(directory: try dir.sub("objects"))
        let short = try store.begin(entry.digest!, size: entry.size, extents: [], resumeAt: 0)
        try ReplicaHarness.feed(path, extents: short.extents, skipping: 0, upTo: 1000, to: short)
        #expect(throws: ReplicaError.self) { try short.finish() }
        #expect(!store.has(entry.digest!))

        let long = try store.begin(entry.digest!, size: entry.size, extents: [], resumeAt: 0)
        try ReplicaHarness.feed(path, extents: long.extents, skipping: 0, to: long)
        var code: ReplicaError.Code?
        do { try [UInt8(1)].withUnsafeBytes { try long.write($0) } } catch let e as ReplicaError { code = e.code }
        #expect(code == .badPlan)
    }
}

@Suite struct ReplicaJournalTests {
    static let sample = Journal(generation: 42, lineage: "lineage-é", steps: [
        .remove(path: "srv/tree/gone", onlyIf: nil),
        .remove(path: "srv/tree/d", onlyIf: .directory),
        .remove(path: "srv/tree/l", onlyIf: .symlink),
        .remove(path: "srv/tree/f", onlyIf: .file),
        .makeDirectory(path: "srv/tree/new", mode: 0o2750),
        .place(path: "srv/tree/new/x", temp: ".cm-mirror-42-ab12", directory: .inTree("srv/tree")),
        .place(path: "srv/tree", temp: ".cm-mirror-42-cd34", directory: .aboveTree("srv/tree")),
        .metadata(ManifestEntry(path: "srv/tree/new", kind: .directory, mode: 0o755, uid: 1000, gid: 4_000_000_000,
                                mtimeNs: -1_500_000_001)),
        .metadata(ManifestEntry(path: "srv/tree/l2", kind: .symlink, mode: 0o777, mtimeNs: 1_700_000_000_123_456_789)),
    ])

    @Test func roundTrip() throws {
        let bytes = Self.sample.encoded()
        #expect(try Journal(decoding: bytes, file: "j") == Self.sample)
        let empty = Journal(generation: 1, lineage: "", steps: [])
        #expect(try Journal(decoding: empty.encoded(), file: "j") == empty)
    }

    func code(_ bytes: [UInt8]) -> ReplicaError.Code? {
        do { _ = try Journal(decoding: bytes, file: "j") } catch let e as ReplicaError { return e.code } catch {
            Issue.record("not a ReplicaError: \(error)")
        }
        return nil
    }

    @Test func everyFlippedByteIsCorrupt() throws {
        let bytes = Self.sample.encoded()
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x20
            #expect(code(damaged) == .corruptState, "byte \(i)")
        }
        for n in [0, 3, 4, 35, bytes.count - 1] {
            #expect(code(Array(bytes.prefix(n))) == .corruptState, "truncated to \(n)")
        }
        #expect(code(bytes + [0]) == .corruptState)
    }

    /// A journal with a valid checksum but a hostile path is still refused.
    @Test func hostilePathsAreCorrupt() throws {
        for path in ["../etc/passwd", "/etc/passwd", "srv//x", "srv/./x"] {
            let bad = Journal(generation: 1, lineage: "", steps: [.remove(path: path, onlyIf: nil)])
            #expect(code(bad.encoded()) == .corruptState, "\(path)")
        }
        let badTemp = Journal(generation: 1, lineage: "", steps: [.place(path: "srv/x", temp: "../x", directory: .inTree("srv"))])
        #expect(code(badTemp.encoded()) == .corruptState)
    }
}

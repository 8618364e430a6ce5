import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// Commits a replica must refuse, leaving its live trees exactly as they were.
@Suite struct ReplicaRefusalTests {
    /// The code of the `ReplicaError` `body` throws (nil when it does not throw).
    func code(_ body: () throws -> Void) -> ReplicaError.Code? {
        do { try body() } catch let error as ReplicaError { return error.code } catch {
            Issue.record("not a ReplicaError: \(error)")
        }
        return nil
    }

    static func digest(_ text: String) -> ContentDigest {
        var hasher = ContentHasher()
        Array(text.utf8).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    static func file(_ path: String, _ text: String) -> ManifestEntry {
        ManifestEntry(path: path, kind: .file, size: Int64(text.utf8.count), mode: 0o644,
                      mtimeNs: 1_650_000_000_000_000_000, digest: digest(text))
    }

    /// generation 1 of the type-change scenario, committed.
    func committed() throws -> (TwoGenerations, ReplicaHarness) {
        let s = try TwoGenerations.typeChanges()
        let r = try s.replica()
        try r.commit(s.m1, generation: 1)
        try r.expectReplica(equals: s.m1)
        return (s, r)
    }

    /// Expects `manifest` to be refused with `expected`, nothing changed, generation 1 kept.
    func expectRefused(_ manifest: Manifest, _ expected: ReplicaError.Code, _ s: TwoGenerations, _ r: ReplicaHarness,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let store = try r.store()
        #expect(code { _ = try store.commit(manifest, generation: 2, lineage: "L1") } == expected, sourceLocation: sourceLocation)
        try r.expectReplica(equals: s.m1, sourceLocation: sourceLocation)
        #expect(try r.store().generation().generation == 1, sourceLocation: sourceLocation)
    }

    @Test func hostileManifestsAreRefused() throws {
        let (s, r) = try committed()
        try expectRefused(try Manifest(entries: s.m1.entries + [Self.file("srv/other/x", "x")]), .outsideTrees, s, r)
        try expectRefused(try Manifest(entries: s.m1.entries + [Self.file("etc/passwd", "x")]), .outsideTrees, s, r)
        try expectRefused(try Manifest(entries: s.m1.entries + [Self.file("srv/tree/nodir/file", "x")]), .badPlan, s, r)
        try expectRefused(try Manifest(entries: s.m1.entries + [Self.file("srv/tree/.cm-mirror-2-abc", "x")]), .badPlan, s, r)
        var rootAsFile = s.m1.entries.filter { !$0.path.hasPrefix("srv/empty") }
        rootAsFile.append(Self.file("srv/empty", "a tree root must be a directory"))
        try expectRefused(try Manifest(entries: rootAsFile), .badPlan, s, r)
    }

    @Test func generationsOnlyMoveForward() throws {
        let (s, r) = try committed()
        let r2 = ReplicaHarness(master: s.second, root: r.root, state: r.state, trees: r.trees)
        let store = try r2.store()
        try ReplicaHarness.stageObjects(for: s.m2, from: s.second, into: store)
        #expect(code { _ = try store.commit(s.m2, generation: 1, lineage: "L1") } == .wrongGeneration)
        #expect(code { _ = try store.commit(s.m2, generation: 0, lineage: "L1") } == .wrongGeneration)
        #expect(code { _ = try store.commit(s.m2, generation: 2, lineage: "other") } == .wrongGeneration)
        try r.expectReplica(equals: s.m1)
        // The same generation again (a repair) is fine.
        _ = try store.commit(s.m1, generation: 1, lineage: "L1")
        try r.expectReplica(equals: s.m1)
        #expect(try store.generation().generation == 1)
    }

    @Test func missingContentIsRefused() throws {
        let (s, r) = try committed()
        try expectRefused(try Manifest(entries: s.m1.entries + [Self.file("srv/tree/new", "content nobody sent\n")]), .missingContent, s, r)
    }

    @Test func corruptObjectsAreNeverPlaced() throws {
        let (s, r) = try committed()
        let text = "genuine content\n"
        let entry = Self.file("srv/tree/new", text)
        let manifest = try Manifest(entries: s.m1.entries + [entry])
        let store = try r.store()

        // Through the writer: finish refuses and keeps nothing.
        let writer = try store.objects.begin(entry.digest!, size: entry.size, extents: [], resumeAt: 0)
        try Array("tampered content".utf8).withUnsafeBytes { try writer.write($0) }
        #expect(code { try writer.finish() } == .digestMismatch)
        #expect(!store.objects.has(entry.digest!))
        #expect(try store.objects.inventory().partial.isEmpty)
        try expectRefused(manifest, .missingContent, s, r)

        // Written straight into the store (a damaged state dir): the commit checks and refuses.
        try Data("tampered content".utf8).write(to: URL(fileURLWithPath: store.objects.path(entry.digest!)))
        try expectRefused(manifest, .digestMismatch, s, r)
        #expect(!store.objects.has(entry.digest!), "a damaged object is dropped so the next run sends it again")
        // Twice the same content: the second copy comes from the object too.
        try Data("tampered content".utf8).write(to: URL(fileURLWithPath: store.objects.path(entry.digest!)))
        let twice = try Manifest(entries: s.m1.entries + [entry, Self.file("srv/tree/new2", text)])
        try expectRefused(twice, .digestMismatch, s, r)
    }

    @Test func symlinkedDirectoryIsReplacedNeverWrittenThrough() throws {
        let (s, r) = try committed()
        let outside = try ReplicaTempDir("outside")
        try TreeBuild.write(outside.path + "/t/1", "outside, must stay\n")
        try TreeBuild.write(outside.path + "/t/sub/2", "outside too\n")
        let before = try ReplicaHarness.scan(outside.path, ["t"])
        try TreeBuild.remove(r.root + "/srv/tree/b")
        try TreeBuild.symlink(r.root + "/srv/tree/b", to: outside.path + "/t")
        try TreeBuild.remove(r.root + "/srv/tree/a")
        try TreeBuild.symlink(r.root + "/srv/tree/a", to: outside.path + "/t/1")

        try r.commit(s.m1, generation: 2)
        try r.expectReplica(equals: s.m1)
        #expect(try ReplicaHarness.scan(outside.path, ["t"]) == before)
    }

    @Test func symlinkedTreeRootIsNeverWrittenThrough() throws {
        let (s, r) = try committed()
        let outside = try ReplicaTempDir("outside")
        try TreeBuild.write(outside.path + "/t/n", "outside, must stay\n")
        let before = try ReplicaHarness.scan(outside.path, ["t"])
        try TreeBuild.remove(r.root + "/srv/tree")
        try TreeBuild.symlink(r.root + "/srv/tree", to: outside.path + "/t")
        // Refused (the scan will not go through it) or replaced by a real directory.
        if (try? r.commit(s.m1, generation: 2)) != nil { try r.expectReplica(equals: s.m1) }
        #expect(try ReplicaHarness.scan(outside.path, ["t"]) == before)
        #expect(r.temps().isEmpty)
    }
}

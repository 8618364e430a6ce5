import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

@Suite struct ReplicaCommitTests {
    @Test func fixtureGenerationsCommitExactly() throws {
        let s = try TwoGenerations.churn()
        let r = try s.replica()
        let store = try r.store()

        let out1 = try r.commit(s.m1, generation: 1, store: store)
        try r.expectReplica(equals: s.m1)
        #expect(out1.generation.generation == 1)
        #expect(out1.generation.treeDigest == s.m1.treeDigest)
        #expect(try store.generation() == out1.generation)
        // The fixture's sparse images keep their holes and the symlink its target.
        let images = s.m1.entries.filter { $0.path.hasPrefix("var/cloudmin/images/") && $0.kind == .file }
        #expect(!images.isEmpty)
        #expect(images.allSatisfy { $0.extents.reduce(0) { $0 + $1.length } < $0.size })
        let link = try #require(r.scanReplica()["var/cloudmin/images/latest-debian.img"])
        #expect(link.kind == .symlink && link.symlinkTarget == "debian12.img")
        #expect(try store.objects.inventory().complete.isEmpty, "objects are pruned after a commit")

        let r2 = ReplicaHarness(master: s.second, root: r.root, state: r.state, trees: r.trees)
        let out2 = try r2.commit(s.m2, generation: 2, store: store)
        try r2.expectReplica(equals: s.m2)
        #expect(out2.generation.generation == 2 && out2.generation.treeDigest == s.m2.treeDigest)
        #expect(out2.plan.changedFiles > 0 && out2.plan.deletions > 0 && out2.plan.newFiles > 0)

        // Committing the same generation again changes nothing.
        let again = try r2.commit(s.m2, generation: 2, store: store)
        #expect(again.plan == ChangePlan.Summary())
        try r2.expectReplica(equals: s.m2)
    }

    @Test func everyKindOfChange() throws {
        let s = try TwoGenerations.typeChanges()
        let r = try s.replica()
        try r.commit(s.m1, generation: 1)
        try r.expectReplica(equals: s.m1)
        #expect(try r.scanReplica()["srv/tree/owned"]?.uid == 0)

        let r2 = ReplicaHarness(master: s.second, root: r.root, state: r.state, trees: r.trees)
        let store = try r2.store()
        let staged = try ReplicaHarness.stageObjects(for: s.m2, from: s.second, into: store)
        // k2 is k renamed: copied from the replica's own file, never sent.
        let moved = try #require(s.m2["srv/tree/k2"]?.digest)
        #expect(!staged.contains(moved))
        let out = try store.commit(s.m2, generation: 2, lineage: "L1")
        try r2.expectReplica(equals: s.m2)
        #expect(out.plan.localCopies >= 1)

        let live = try r2.scanReplica()
        #expect(live["srv/tree/a"]?.kind == .directory && live["srv/tree/a/x"]?.kind == .file)
        #expect(live["srv/tree/b"]?.kind == .file && live["srv/tree/b/1"] == nil)
        #expect(live["srv/tree/c"]?.symlinkTarget == "b")
        #expect(live["srv/tree/d"]?.symlinkTarget == "c")
        #expect(live["srv/tree/e"]?.mode == 0o600)
        #expect(live["srv/tree/f"]?.mtimeNs == 1_700_000_000_500_000_000)
        #expect(live["srv/tree/g"] == nil && live.entries(inside: "srv/tree/g").isEmpty)
        #expect(live["srv/tree/k"] == nil && live["srv/tree/k2"]?.digest == moved)
        #expect(live["srv/tree/l"]?.kind == .file && live["srv/tree/m"]?.symlinkTarget == "../empty")
        #expect(live["srv/tree/zero"]?.size == 0)
        #expect(live["srv/tree/sparse"]?.extents == s.m2["srv/tree/sparse"]?.extents)
        #expect(live["srv/tree/sparse"]?.extents.count == 2)
        #expect(live["srv/tree/hole"]?.extents == [DataExtent.allHole])
        #expect(live["srv/tree/owned"]?.uid == 1234 && live["srv/tree/owned"]?.gid == 4321)
        #expect(live["srv/tree/suid"]?.mode == 0o4755 && live["srv/tree/suid"]?.uid == 1234)
        // A sparse file moved on the master is copied locally, holes and all.
        #expect(live["srv/tree/big2"]?.extents.count == 2)
        #expect(live["srv/tree/big2"]?.extents == s.m1["srv/tree/big"]?.extents)
        #expect(live.entries(inside: "srv/empty").isEmpty && live["srv/empty"]?.kind == .directory)

        // And back again: every change reversed.
        let r1 = ReplicaHarness(master: s.first, root: r.root, state: r.state, trees: r.trees)
        try r1.commit(s.m1, generation: 3)
        try r1.expectReplica(equals: s.m1)
    }

    /// The manifest a commit records lets the next scan trust every file (no rehash).
    @Test func recordedManifestQuickChecksEveryFile() throws {
        let s = try TwoGenerations.churn()
        let r = try s.replica()
        let store = try r.store()
        try r.commit(s.m1, generation: 1, store: store)
        let result = try Scanner(root: r.root, trees: r.trees).scan(previous: try store.recordedManifest())
        #expect(result.manifest.treeDigest == s.m1.treeDigest)
        #expect(result.stats.filesHashed == 0)
    }

    /// Objects on another filesystem than the trees cannot be hard-linked: they are copied,
    /// holes included.
    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/shm")))
    func objectsOnAnotherFilesystemAreCopied() throws {
        let s = try TwoGenerations.churn()
        let d = try ReplicaTempDir("rep")
        var template = Array("/dev/shm/cm-state-XXXXXX".utf8CString)
        let state = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = ReplicaHarness(master: s.first, root: try d.sub("root"), state: state, trees: s.trees)
        try r.commit(s.m1, generation: 1)
        try r.expectReplica(equals: s.m1)
        let r2 = ReplicaHarness(master: s.second, root: r.root, state: state, trees: s.trees)
        try r2.commit(s.m2, generation: 2)
        try r2.expectReplica(equals: s.m2)
    }

    @Test func emptyManifestEmptiesTheTrees() throws {
        let s = try TwoGenerations.typeChanges()
        let r = try s.replica()
        try r.commit(s.m1, generation: 1)
        let roots = try Manifest(entries: s.m1.entries.filter { s.trees.contains($0.path) })
        try r.commit(roots, generation: 2)
        try r.expectReplica(equals: roots)
        try r.commit(.empty, generation: 3)
        let live = try r.scanReplica()
        #expect(live.count == 0)
        #expect(!FileManager.default.fileExists(atPath: r.root + "/srv/tree"))
    }

    @Test func handEditsAreRepairedByTheNextCommit() throws {
        let s = try TwoGenerations.typeChanges()
        let r = try s.replica()
        try r.commit(s.m1, generation: 1)
        try TreeBuild.write(r.root + "/srv/tree/n", "edited by hand\n")
        try TreeBuild.remove(r.root + "/srv/tree/e")
        try TreeBuild.remove(r.root + "/srv/tree/b")
        try TreeBuild.write(r.root + "/srv/tree/stray", "not on the master\n")
        try r.commit(s.m1, generation: 2)
        try r.expectReplica(equals: s.m1)
    }
}

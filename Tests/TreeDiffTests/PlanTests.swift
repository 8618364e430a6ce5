#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TreeDiff

@Suite struct PlanTests {
    static let baseTime: Int64 = 1_700_000_000_000_000_000
    let image = testBytes(700_000, seed: 21)

    /// The replica's old tree.
    func makeOld(_ t: TestTree) throws {
        try t.write("data/same.txt", "same")
        try t.write("data/changed.txt", "old content")
        try t.write("data/samesize.txt", "aaaa")
        try t.write("data/mode.txt", "m", mode: 0o644)
        try t.write("data/owner.txt", "o")
        try t.write("data/mtime.txt", "t")
        try t.write("data/fileToDir", "was a file")
        try t.write("data/dirToLink/a/b", "deep")
        try t.symlink("data/linkChange", to: "target1")
        try t.symlink("data/linkSame", to: "same-target")
        try t.write("data/gone/x/y/z.txt", "z")
        try t.write("data/gone/w.txt", "w")
        try t.write("data/moved/old-image.img", image)
        try t.mkdir("data/dirmode", mode: 0o755)
        try t.setAllMtimes(Self.baseTime)
    }

    /// The master's new tree.
    func makeNew(_ t: TestTree) throws {
        try t.write("data/same.txt", "same")
        try t.write("data/changed.txt", "new content, longer")
        try t.write("data/samesize.txt", "bbbb")
        try t.write("data/mode.txt", "m", mode: 0o600)
        try t.write("data/owner.txt", "o")
        try t.write("data/mtime.txt", "t")
        try t.write("data/fileToDir/child", "now a directory")
        try t.symlink("data/dirToLink", to: "elsewhere")
        try t.symlink("data/linkChange", to: "target2")
        try t.symlink("data/linkSame", to: "same-target")
        try t.write("data/images/new-image.img", image)
        try t.write("data/newdir/sub/new.txt", "brand new")
        try t.mkdir("data/dirmode", mode: 0o700)
        try t.mkdir("data/moved")
        try t.setAllMtimes(Self.baseTime)
        t.setMtime("data/mtime.txt", ns: Self.baseTime + 5)
        t.setMtime("data/changed.txt", ns: Self.baseTime + 7)
        if geteuid() == 0 { #expect(lchown(t.absolute("data/owner.txt"), 1234, 1234) == 0) }
    }

    @Test func everyKindOfChangeIsPlannedInASafeOrder() throws {
        let old = try TestTree(), new = try TestTree()
        try makeOld(old)
        try makeNew(new)
        let replica = try old.scan().manifest, master = try new.scan().manifest
        let plan = ChangePlan.make(from: replica, to: master)
        let lines = plan.itemizedLines
        func position(_ line: String) throws -> Int { try #require(lines.firstIndex(of: line), "missing: \(line)") }

        // Each kind of change, rendered as rsync --itemize-changes does.
        let expected = [
            "*deleting   data/dirToLink/a/b", "*deleting   data/dirToLink/a/", "*deleting   data/dirToLink/",
            "*deleting   data/fileToDir",
            "cd+++++++++ data/fileToDir/", "cd+++++++++ data/images/", "cd+++++++++ data/newdir/", "cd+++++++++ data/newdir/sub/",
            ">fcst...... data/changed.txt",
            "cL+++++++++ data/dirToLink -> elsewhere",
            ">f+++++++++ data/fileToDir/child",
            "cf+++++++++ data/images/new-image.img => data/moved/old-image.img",
            "cLc........ data/linkChange -> target2",
            ">f+++++++++ data/newdir/sub/new.txt",
            ">fc........ data/samesize.txt",
            ".f...p..... data/mode.txt", ".f..t...... data/mtime.txt",
            "*deleting   data/moved/old-image.img",
            "*deleting   data/gone/x/y/z.txt", "*deleting   data/gone/x/y/", "*deleting   data/gone/x/", "*deleting   data/gone/w.txt", "*deleting   data/gone/",
        ] + (geteuid() == 0 ? [".f....og... data/owner.txt"] : [])
        for line in expected { _ = try position(line) }
        #expect(!lines.contains { $0.hasSuffix("data/same.txt") || $0.contains("linkSame") })

        // Kind changes: the old entry goes before the new one is created.
        #expect(try position("*deleting   data/fileToDir") < position("cd+++++++++ data/fileToDir/"))
        #expect(try position("*deleting   data/dirToLink/") < position("cL+++++++++ data/dirToLink -> elsewhere"))
        // A moved file is copied locally before its old path is deleted.
        #expect(try position("cf+++++++++ data/images/new-image.img => data/moved/old-image.img") < position("*deleting   data/moved/old-image.img"))
        // Deletions: children before parents; creations: parents before children.
        for (index, item) in plan.items.enumerated() {
            let later = plan.items[(index + 1)...]
            if case .delete = item.action {
                #expect(!later.contains { if case .delete = $0.action { RelativePath.isInside($0.path, ancestor: item.path) } else { false } })
            }
            if case .createDirectory = item.action {
                #expect(!plan.items[..<index].contains { RelativePath.isInside($0.path, ancestor: item.path) && $0.entry != nil })
            }
            // Directory metadata comes after everything inside the directory.
            if case .directoryMetadata = item.action {
                #expect(!later.contains { RelativePath.isInside($0.path, ancestor: item.path) && !isDirectoryMetadata($0) })
            }
        }
        let dirmode = try #require(plan.items.first { $0.path == "data/dirmode" })
        #expect(dirmode.action == .directoryMetadata([.mode]))
        let changed = try #require(plan.items.first { $0.path == "data/changed.txt" })
        #expect(changed.action == .changedFile(baseDigest: replica["data/changed.txt"]!.digest!))

        let summary = plan.summary
        #expect(summary.newFiles == 3 && summary.localCopies == 1 && summary.changedFiles == 2)
        #expect(summary.bytesLocalCopy == Int64(image.count))
        #expect(summary.bytesNew == Int64("now a directory".utf8.count + "brand new".utf8.count))
        #expect(summary.bytesChanged == Int64("new content, longer".utf8.count + 4))
        #expect(summary.deletions == 10)
        #expect(summary.symlinks == 2)
    }

    @Test func applyingThePlanReproducesTheMasterTree() throws {
        let old = try TestTree(), new = try TestTree()
        try makeOld(old)
        try makeNew(new)
        let master = try new.scan().manifest
        let plan = ChangePlan.make(from: try old.scan().manifest, to: master)
        try PlanApplier(replica: old, master: new).apply(plan)

        let result = try old.scan().manifest
        #expect(result.treeDigest == master.treeDigest)
        #expect(result.entries.map(\.path) == master.entries.map(\.path))
        for (got, want) in zip(result.entries, master.entries) {
            #expect(got.sameReplicatedFields(as: want), "\(got.path)")
        }
        #expect(ChangePlan.make(from: result, to: master).isEmpty)
    }

    @Test func anEmptyReplicaGetsEverythingAndEqualTreesGetNothing() throws {
        let empty = try TestTree(), new = try TestTree()
        try makeNew(new)
        let master = try new.scan().manifest
        let plan = ChangePlan.make(from: nil, to: master)
        #expect(plan.items.allSatisfy {
            switch $0.action {
            case .createDirectory, .newFile, .symlink(replacing: false), .directoryMetadata: true
            default: false
            }
        })
        #expect(plan.summary.directoriesCreated == master.entries.filter { $0.kind == .directory }.count)
        try PlanApplier(replica: empty, master: new).apply(plan)
        #expect(try empty.scan().manifest.treeDigest == master.treeDigest)

        // Local-only fields never cause work.
        #expect(ChangePlan.make(from: master.replicated, to: master).isEmpty)
        #expect(ChangePlan.make(from: master, to: master).isEmpty)
    }

    @Test func deletingAWholeTreeRemovesChildrenFirst() throws {
        let old = try TestTree(), new = try TestTree()
        try makeOld(old)
        try new.mkdir("data")
        try new.setAllMtimes(Self.baseTime)
        let replica = try old.scan().manifest
        let plan = ChangePlan.make(from: replica, to: try new.scan().manifest)
        #expect(plan.summary.deletions == replica.count - 1)
        #expect(plan.items.filter { if case .delete = $0.action { true } else { false } }.map(\.path)
            == replica.entries.dropFirst().map(\.path).reversed())
        try PlanApplier(replica: old, master: new).apply(plan)
        #expect(try old.scan().manifest.treeDigest == new.scan().manifest.treeDigest)
    }
}

private func isDirectoryMetadata(_ item: ChangeItem) -> Bool {
    if case .directoryMetadata = item.action { return true }
    return false
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// Catch-up of lagging replicas and verification of replica trees, over socket pairs.
@Suite struct CatchUpVerifyTests {
    static func catchUp(_ name: String, rehash: Bool = false) -> RunOptions {
        var options = RunOptions()
        options.replicas = [name]
        options.forceManifest = true
        options.fullRehash = rehash
        return options
    }

    static func only(_ name: String) -> RunOptions {
        var options = RunOptions()
        options.replicas = [name]
        return options
    }

    /// All replicas copied, then `cycles` churn cycles mirrored to r1 only.
    static func lagging(_ pair: LocalReplicaPair, cycles: Int) throws -> RunResult {
        var last = try pair.mirrorRun().run(RunOptions())
        #expect(last.failed.isEmpty)
        for seed in 1...cycles {
            _ = try Fixtures.churn(URL(fileURLWithPath: pair.masterRoot), seed: seed)
            last = try pair.mirrorRun().run(only("r1"))
            #expect(last.failed.isEmpty)
        }
        return last
    }

    @Test func aReplicaLeftBehindThreeCyclesCatchesUpAndSaysHowFar() throws {
        let pair = try LocalReplicaPair(replicas: ["r1", "r2"])
        let behind = try Self.lagging(pair, cycles: 3)
        #expect(try pair.replicaManifest("r2").treeDigest != pair.masterManifest().treeDigest)

        let result = try pair.mirrorRun().run(Self.catchUp("r2"))
        let r = try #require(result.replicas.first)
        #expect(r.ok, "\(r.error ?? "")")
        #expect(r.fetchedManifest)
        #expect(result.generation == behind.generation)
        #expect(result.generation - r.previousGeneration == 3)
        #expect(r.generation == result.generation)
        #expect(r.filesSent + r.deltasSent > 0)
        #expect(try pair.replicaManifest("r2").treeDigest == pair.masterManifest().treeDigest)
        let record = try MasterState(stateDirectory: pair.master.stateDirectory).replica("r2")
        #expect(record.generation == result.generation)

        // Again: nothing is missing now, nothing is sent.
        let again = try #require(try pair.mirrorRun().run(Self.catchUp("r2")).replicas.first)
        #expect(again.ok)
        #expect(again.previousGeneration == result.generation)
        #expect(again.filesSent + again.deltasSent == 0)
    }

    @Test func aCatchUpCutMidwayResumesAndSendsLess() throws {
        let pair = try LocalReplicaPair(replicas: ["r1", "r2", "r3"])
        _ = try Self.lagging(pair, cycles: 3)
        // r3 is the yardstick: the same lag, caught up without a cut.
        let clean = try #require(try pair.mirrorRun().run(Self.catchUp("r3")).replicas.first)
        #expect(clean.ok, "\(clean.error ?? "")")

        let before = try pair.replicaManifest("r2")
        let cut = try #require(try pair.cutRun(after: Int(clean.bytesSent) * 3 / 4).run(Self.catchUp("r2")).replicas.first)
        #expect(!cut.ok)
        #expect(try pair.replicaManifest("r2").treeDigest == before.treeDigest)  // still the old generation

        let rerun = try #require(try pair.mirrorRun().run(Self.catchUp("r2")).replicas.first)
        #expect(rerun.ok, "\(rerun.error ?? "")")
        #expect(rerun.filesSent + rerun.deltasSent < clean.filesSent + clean.deltasSent)
        #expect(rerun.bytesSent < clean.bytesSent)
        #expect(try pair.replicaManifest("r2").treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func verifyOfACleanReplicaFindsNothing() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        let report = try Self.verifier(pair).verify("r1")
        #expect(report.clean)
        #expect(report.entriesChecked == (try pair.masterManifest().count))
    }

    @Test func verifyListsHandEditsWithoutWritingAndRepairFixesThem() throws {
        let pair = try LocalReplicaPair()
        _ = try pair.mirrorRun().run(RunOptions())
        let held = try pair.replicaManifest()
        let trees = try pair.master.trees
        let root = pair.replicaRoot

        // A small directory below a tree root, to replace by a symlink.
        let dir = try #require(held.entries.first { d in
            d.kind == .directory && !trees.contains { $0 == d.path || $0.hasPrefix(d.path + "/") }
                && (1...4).contains(held.entries(inside: d.path).count)
        })
        let children = held.entries(inside: dir.path).map(\.path)
        let files = held.entries.filter { $0.kind == .file && $0.size > 0 && !$0.path.hasPrefix(dir.path + "/") }
        try #require(files.count >= 3)
        let (edited, deleted, chmodded) = (files[0], files[1], files[2])

        // Content edited in place keeping size and mtime.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: root + "/" + edited.path)))
        bytes[0] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + edited.path))
        try Self.setMtime(root + "/" + edited.path, nanoseconds: edited.mtimeNs)
        try FileManager.default.removeItem(atPath: root + "/" + deleted.path)
        let newMode: mode_t = (chmodded.mode & 0o777) == 0o600 ? 0o640 : 0o600
        #expect(chmod(root + "/" + chmodded.path, newMode) == 0)
        try FileManager.default.removeItem(atPath: root + "/" + dir.path)
        try FileManager.default.createSymbolicLink(atPath: root + "/" + dir.path, withDestinationPath: "elsewhere")

        // The plain run trusts the master's record: it does not notice.
        let plain = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
        #expect(plain.ok && plain.upToDate)

        let untouched = try Scanner(root: root, trees: trees).scan().manifest
        let report = try Self.verifier(pair).verify("r1")
        #expect(try Scanner(root: root, trees: trees).scan().manifest == untouched)  // ctimes and inodes too

        var expected: [String: [DriftKind]] = [edited.path: [.content], deleted.path: [.missing],
                                               chmodded.path: [.mode], dir.path: [.type]]
        for child in children { expected[child] = [.missing] }
        // Deleting and replacing bumped the parents' mtimes.
        for path in [deleted.path, dir.path] {
            if let parent = RelativePath.parent(of: path), expected[parent] == nil { expected[parent] = [.mtime] }
        }
        let found = Dictionary(uniqueKeysWithValues: report.drift.map { ($0.path, $0.kinds) })
        #expect(found == expected)
        #expect(!report.clean)

        let repair = try #require(try pair.mirrorRun().run(Self.catchUp("r1", rehash: true)).replicas.first)
        #expect(repair.ok, "\(repair.error ?? "")")
        #expect(try Self.verifier(pair).verify("r1").clean)
        #expect(try pair.replicaManifest().treeDigest == pair.masterManifest().treeDigest)
    }

    @Test func extraFilesAndOwnersAndMtimesAreDrift() throws {
        let expectedEntry = Self.file("a/f", digestByte: 1)
        let expected = try Manifest(entries: [expectedEntry])
        var owned = expectedEntry
        owned.uid = 1000
        owned.mtimeNs = 2_000
        let extra = Self.file("a/g", digestByte: 2)
        let actual = try Manifest(entries: [owned, extra])
        let drift = ReplicaVerifier.compare(expected: expected, actual: actual)
        #expect(drift.map(\.path) == ["a/f", "a/g"])
        #expect(drift.map(\.kinds) == [[.owner, .mtime], [.extra]])
        #expect(ReplicaVerifier.compare(expected: expected, actual: expected).isEmpty)
    }

    static func file(_ path: String, digestByte: UInt8) -> ManifestEntry {
        ManifestEntry(path: path, kind: .file, size: 4, mode: 0o644, mtimeNs: 1_000,
                      digest: ContentDigest(bytes: [UInt8](repeating: digestByte, count: 32))!)
    }

    static func verifier(_ pair: LocalReplicaPair) throws -> ReplicaVerifier {
        let verifier = ReplicaVerifier(context: try pair.master)
        verifier.connector = try pair.mirrorRun().connector
        return verifier
    }

    static func setMtime(_ path: String, nanoseconds: Int64) throws {
        let time = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var times = [time, time]  // atime too: UTIME_OMIT is a macro Swift does not import
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw Errno(rawValue: errno) }
    }
}

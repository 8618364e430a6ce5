import Foundation
@testable import MirrorEngine
import TestSupport
import Testing
import TreeDiff

/// Corruption that leaves size, mtime and ctime alone (a disk flipping bits) fools every quick
/// check; verify's full rehash finds it and a rehashing run repairs it.
@Suite struct SilentCorruptionTests {
    @Test func verifyFindsAndRehashingRunRepairsSilentCorruption() throws {
        let pair = try LocalReplicaPair()
        #expect(try pair.mirrorRun().run(RunOptions()).failed.isEmpty)
        let victim = try #require(try pair.replicaManifest().entries.first { $0.kind == .file && $0.size >= 16 })
        let path = pair.replicaRoot + "/" + victim.path

        // Flip bytes, keep size and mtime, then make the replica's record claim the new ctime
        // and inode: exactly what a silent corruption looks like to a quick check.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[0] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var times = [timespec(tv_sec: Int(victim.mtime.seconds), tv_nsec: Int(victim.mtime.nanoseconds)),
                     timespec(tv_sec: Int(victim.mtime.seconds), tv_nsec: Int(victim.mtime.nanoseconds))]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let replica = try MirrorContext(root: pair.replicaRoot)
        let store = try ReplicaStore(stateDirectory: replica.stateDirectory, root: pair.replicaRoot, trees: replica.trees)
        var st = stat()
        #expect(lstat(path, &st) == 0)
        let recorded = try #require(try store.recordedManifest())
        let patched = recorded.entries.map { e -> ManifestEntry in
            guard e.path == victim.path else { return e }
            var e = e
            e.ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
            e.inode = UInt64(st.st_ino)
            e.device = UInt64(st.st_dev)
            return e
        }
        try Manifest(entries: patched).save(to: store.liveManifestFile)

        // A plain run and even a catch-up trust the quick check.
        var catchUp = RunOptions()
        catchUp.forceManifest = true
        #expect(try pair.mirrorRun().run(catchUp).replicas[0].summary.changedFiles == 0)

        let verifier = ReplicaVerifier(context: try pair.master)
        verifier.connector = try pair.mirrorRun().connector
        let report = try verifier.verify("r1")
        #expect(report.drift.map(\.path) == [victim.path])
        #expect(report.drift.first?.kinds.contains(.content) == true)

        var repair = RunOptions()
        repair.forceManifest = true
        repair.fullRehash = true
        let fixed = try pair.mirrorRun().run(repair).replicas[0]
        #expect(fixed.ok, "\(fixed.error ?? "")")
        #expect(try verifier.verify("r1").clean)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: pair.masterRoot + "/" + victim.path)))
    }
}

import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// Two master generations for commit tests: `first` and `second` are master roots (the
/// second is a copy of the first with changes made), with their manifests.
final class TwoGenerations: @unchecked Sendable {
    // @unchecked: read-only after init but for `replicas`, which is behind `lock`.
    let dir: ReplicaTempDir
    let first: String
    let second: String
    let trees: [String]
    let m1: Manifest
    let m2: Manifest

    /// A fresh replica (root and state dir) for these masters.
    func replica(master: String? = nil) throws -> ReplicaHarness {
        let d = try ReplicaTempDir("rep")
        lock.withLock { replicas.append(d) }
        return ReplicaHarness(master: master ?? first, root: try d.sub("root"), state: try d.sub("state"), trees: trees)
    }

    /// Replica dirs, kept until the scenario goes away.
    private var replicas: [ReplicaTempDir] = []
    private let lock = NSLock()

    init(dir: ReplicaTempDir, first: String, second: String, trees: [String]) throws {
        self.dir = dir
        self.first = first
        self.second = second
        self.trees = trees
        m1 = try ReplicaHarness.scan(first, trees)
        m2 = try ReplicaHarness.scan(second, trees)
    }

    /// The small Cloudmin fixture, then one churn cycle.
    static func churn(seed: Int = 7) throws -> TwoGenerations {
        let dir = try ReplicaTempDir("master")
        let a = try dir.sub("a"), b = try dir.sub("b")
        try Fixtures.materializeSmall(into: URL(fileURLWithPath: a))
        try TreeBuild.copyTree(a, b)
        try Fixtures.churn(URL(fileURLWithPath: b), seed: seed)
        return try TwoGenerations(dir: dir, first: a, second: b, trees: ReplicaHarness.fixtureTrees)
    }

    /// Nothing at all (the trees do not exist), then the hand-made tree of `typeChanges`.
    static func fromNothing() throws -> TwoGenerations {
        let full = try typeChanges()
        let empty = try full.dir.sub("nothing")
        return try TwoGenerations(dir: full.dir, first: empty, second: full.first, trees: full.trees)
    }

    /// A hand-made tree, then every kind of change to it.
    static func typeChanges() throws -> TwoGenerations {
        let dir = try ReplicaTempDir("master")
        let a = try dir.sub("a"), b = try dir.sub("b")
        let t = a + "/srv/tree"
        try TreeBuild.write(t + "/a", "file that becomes a directory\n")
        try TreeBuild.write(t + "/b/1", "inside b\n")
        try TreeBuild.write(t + "/b/sub/2", "deeper in b\n")
        try TreeBuild.write(t + "/c/1", "inside c, which becomes a symlink\n")
        try TreeBuild.symlink(t + "/d", to: "a")
        try TreeBuild.write(t + "/e", "mode changes\n", mode: 0o644)
        try TreeBuild.write(t + "/f", "mtime changes\n")
        try TreeBuild.write(t + "/g/h/i/j", "deep subtree deleted\n")
        try TreeBuild.write(t + "/g/h/k", "deep subtree deleted too\n")
        try TreeBuild.write(t + "/k", "content that moves to k2 on the master\n")
        try TreeBuild.symlink(t + "/l", to: "/etc/passwd")
        try TreeBuild.write(t + "/m", "file that becomes a symlink\n")
        try TreeBuild.write(t + "/n", "content changes\n")
        try TreeBuild.write(t + "/owned", "owner changes\n")
        try TreeBuild.mkdir(a + "/srv/empty")
        try TreeBuild.sparse(t + "/big", size: 5 << 20, data: [(1 << 20, 0x43), (4 << 20, 0x44)])
        try TreeBuild.setMtime(t + "/f", seconds: 1_600_000_000)

        try TreeBuild.copyTree(a, b)
        let u = b + "/srv/tree"
        try TreeBuild.remove(u + "/a")
        try TreeBuild.write(u + "/a/x", "now a directory\n")
        try TreeBuild.remove(u + "/b")
        try TreeBuild.write(u + "/b", "now a file\n")
        try TreeBuild.remove(u + "/c")
        try TreeBuild.symlink(u + "/c", to: "b")
        try TreeBuild.remove(u + "/d")
        try TreeBuild.symlink(u + "/d", to: "c")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: u + "/e")
        try TreeBuild.setMtime(u + "/f", seconds: 1_700_000_000.5)
        try TreeBuild.remove(u + "/g")
        try FileManager.default.moveItem(atPath: u + "/k", toPath: u + "/k2")
        try TreeBuild.remove(u + "/l")
        try TreeBuild.write(u + "/l", "symlink became a file\n")
        try TreeBuild.remove(u + "/m")
        try TreeBuild.symlink(u + "/m", to: "../empty")
        try TreeBuild.write(u + "/n", "content changed, longer than before\n")
        try TreeBuild.write(u + "/zero", "")
        try TreeBuild.sparse(u + "/sparse", size: 8 << 20, data: [(0, 0x41), (4 << 20, 0x42)])
        try TreeBuild.sparse(u + "/hole", size: 3 << 20, data: [])
        #expect(chown(u + "/owned", 1234, 4321) == 0)
        try FileManager.default.moveItem(atPath: u + "/big", toPath: u + "/big2")
        try TreeBuild.write(u + "/suid", "setuid, owned by someone else\n")
        #expect(chown(u + "/suid", 1234, 4321) == 0)
        #expect(chmod(u + "/suid", 0o4755) == 0)
        return try TwoGenerations(dir: dir, first: a, second: b, trees: ["srv/tree", "srv/empty"])
    }
}

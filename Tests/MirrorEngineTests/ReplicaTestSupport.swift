#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// A temporary directory removed when the value goes away.
final class ReplicaTempDir: Sendable {
    let path: String

    init(_ label: String = "replica") throws {
        var template = Array("/tmp/cm-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// Master and replica sides of one commit test: a master root, a replica root and state dir.
struct ReplicaHarness {
    let master: String
    let root: String
    let state: String
    let trees: [String]

    /// The Cloudmin trees of the small fixture.
    static let fixtureTrees = ["etc/webmin/server-manager", "var/webmin/modules/server-manager/collected", "var/cloudmin/images"]

    func store(crashAt step: Int? = nil) throws -> ReplicaStore {
        let s = try ReplicaStore(stateDirectory: state, root: root, trees: trees)
        s.crashPoint = CrashPoint(at: step, action: .throwError)
        return s
    }

    func scanMaster() throws -> Manifest { try ReplicaHarness.scan(master, trees) }
    func scanReplica() throws -> Manifest { try ReplicaHarness.scan(root, trees) }

    static func scan(_ root: String, _ trees: [String]) throws -> Manifest {
        try Scanner(root: root, trees: trees).scan().manifest
    }

    /// Stages from `masterRoot` every object `manifest` needs that the replica cannot copy
    /// from its own live files (and that is not staged already).
    /// - Returns: the digests staged.
    @discardableResult
    static func stageObjects(for manifest: Manifest, from masterRoot: String, into store: ReplicaStore) throws -> Set<ContentDigest> {
        let live = try store.scanLive().pathsByDigest()
        let held = try store.objects.inventory().complete
        var staged = Set<ContentDigest>()
        for entry in manifest.entries where entry.kind == .file && entry.size > 0 {
            guard let digest = entry.digest, live[digest] == nil, !held.contains(digest), !staged.contains(digest) else { continue }
            try stageObject(entry, from: masterRoot + "/" + entry.path, into: store.objects)
            staged.insert(digest)
        }
        return staged
    }

    /// Writes one master file's data extents into the object store and finishes the object.
    static func stageObject(_ entry: ManifestEntry, from file: String, into objects: ObjectStore) throws {
        let writer = try objects.begin(entry.digest!, size: entry.size, extents: entry.extents, resumeAt: 0)
        try feed(file, extents: writer.extents, skipping: 0, to: writer)
        try writer.finish()
    }

    /// Sends the data bytes of `extents` read from `file`, skipping the first `skip` of them.
    static func feed(_ file: String, extents: [DataExtent], skipping skip: Int64, upTo limit: Int64 = .max, to writer: ObjectWriter) throws {
        let fd = try FileDescriptor.open(file, .readOnly)
        defer { try? fd.close() }
        var skipped: Int64 = 0, sent: Int64 = 0
        for extent in extents where extent.length > 0 {
            var offset = extent.offset
            let end = extent.end
            if skipped < skip {
                let s = min(skip - skipped, extent.length)
                skipped += s
                offset += s
            }
            while offset < end && sent < limit {
                let want = Int(min(end - offset, 1 << 20, limit - sent))
                var buffer = [UInt8](repeating: 0, count: want)
                let n = try buffer.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: offset, into: $0) }
                #expect(n == want)
                try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                offset += Int64(n)
                sent += Int64(n)
            }
        }
    }

    /// Stages what `manifest` needs from the master and commits it.
    @discardableResult
    func commit(_ manifest: Manifest, generation: UInt64, store: ReplicaStore? = nil) throws -> CommitOutcome {
        let s = try store ?? self.store()
        try Self.stageObjects(for: manifest, from: master, into: s)
        return try s.commit(manifest, generation: generation, lineage: "L1")
    }

    /// Every `.cm-mirror-` temp anywhere under the replica root.
    func temps() -> [String] {
        var found: [String] = []
        let e = FileManager.default.enumerator(atPath: root)
        while let p = e?.nextObject() as? String {
            if (p as NSString).lastPathComponent.hasPrefix(".cm-mirror-") { found.append(p) }
        }
        return found
    }

    /// Expects the replica's live trees to be exactly `manifest`: tree digest, extents of every
    /// file, and no staging temp left.
    func expectReplica(equals manifest: Manifest, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let live = try scanReplica()
        #expect(live.treeDigest == manifest.treeDigest, "replica differs: \(Self.difference(live, manifest))", sourceLocation: sourceLocation)
        for entry in manifest.entries where entry.kind == .file {
            #expect(live[entry.path]?.extents == entry.extents, "extents of \(entry.path)", sourceLocation: sourceLocation)
        }
        #expect(temps().isEmpty, "temps left: \(temps())", sourceLocation: sourceLocation)
    }

    /// The first few differing paths, for failure messages.
    static func difference(_ a: Manifest, _ b: Manifest) -> [String] {
        ChangePlan.make(from: a, to: b).itemizedLines.prefix(8).map { $0 }
    }
}

/// Runs `body(i)` for `0..<count` on `width` threads; returns when all are done.
func runParallel(_ count: Int, width: Int = 6, _ body: @escaping @Sendable (Int) -> Void) {
    final class Next: @unchecked Sendable {
        // @unchecked: `value` is only touched under `lock`.
        let lock = NSLock()
        var value = 0
        func take() -> Int { lock.withLock { defer { value += 1 }; return value } }
    }
    let next = Next()
    let done = DispatchSemaphore(value: 0)
    let threads = min(width, count)
    for _ in 0..<threads {
        Thread {
            while case let i = next.take(), i < count { body(i) }
            done.signal()
        }.start()
    }
    for _ in 0..<threads { done.wait() }
}

/// Shell helpers for building master trees by hand.
enum TreeBuild {
    static func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func symlink(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    static func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }

    /// A sparse file of `size` bytes with `data` written at each offset.
    static func sparse(_ path: String, size: Int64, data: [(Int64, UInt8)]) throws {
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        defer { try? fd.close() }
        for (offset, byte) in data {
            _ = try fd.writeAll(toAbsoluteOffset: offset, [UInt8](repeating: byte, count: 8192))
        }
        guard ftruncate(fd.rawValue, off_t(size)) == 0 else { throw Errno(rawValue: errno) }
    }

    static func setMtime(_ path: String, seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: seconds)], ofItemAtPath: path)
    }

    /// `cp -a` (modes, owners, times, symlinks, sparse files kept).
    static func copyTree(_ from: String, _ to: String) throws {
        #expect(try copied(from, to))
    }

    /// `cp -a`; whether it succeeded (safe off the test's own thread).
    static func copied(_ from: String, _ to: String) throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/cp")
        p.arguments = ["-a", "--sparse=always", from + "/.", to]
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}

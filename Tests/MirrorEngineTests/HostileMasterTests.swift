import Foundation
@testable import MirrorEngine
import SystemPackage
import Testing
import TestSupport
@testable import TreeDiff

/// A master that sends hostile requests to the real replica server (`ReplicaSession` over a
/// socket pair): plans with `..`, absolute paths, NUL bytes, paths through symlinks,
/// duplicated paths; a delta whose result does not match its digest; a truncated object.
/// Each is refused with a code, nothing is applied, nothing outside the trees is written.
@Suite struct HostileMasterTests {
    /// A replica holding generation 1 of the fixture, and a raw protocol client to it.
    final class Session {
        let pair: LocalReplicaPair
        let client: ReplicaClient
        private let done = DispatchSemaphore(value: 0)
        private let fds: [Int32]
        let before: Manifest
        let outside: [String: String]
        let generation: UInt64

        init() throws {
            pair = try LocalReplicaPair()
            let first = try #require(try pair.mirrorRun().run(RunOptions()).replicas.first)
            #expect(first.ok)
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw Errno(rawValue: errno) }
            self.fds = fds
            let context = try MirrorContext(root: pair.replicaRoot)
            let fingerprint = pair.masterKey.fingerprint
            let serverFD = fds[0]
            let done = self.done
            Thread.detachNewThread {
                let fd = FileDescriptor(rawValue: serverFD)
                try? ReplicaServer.serve(context: context, stream: FileDescriptorStream(input: fd, output: fd), clientFingerprint: fingerprint)
                _ = shutdown(serverFD, Int32(SHUT_RDWR))
                done.signal()
            }
            let fd = FileDescriptor(rawValue: fds[1])
            client = try ReplicaClient(stream: FileDescriptorStream(input: fd, output: fd), peer: "replica", compressionLevel: 1)
            before = try pair.replicaManifest()
            outside = try Hostile.snapshot(pair.scratch.path, excluding: [context.stateDirectory])
            let hello = try client.hello(fingerprint: fingerprint, lineage: "lineage-test")
            generation = hello.generation
            #expect(generation > 0)
        }

        var replicaState: String { get throws { try MirrorContext(root: pair.replicaRoot).stateDirectory } }
        var store: ReplicaStore { get throws { try ReplicaStore(stateDirectory: try replicaState, root: pair.replicaRoot, trees: try pair.master.trees) } }

        /// Sends a commit of raw manifest bytes; returns the error code of the refusal.
        func commitRaw(_ bytes: [UInt8], generation: UInt64) throws -> String? {
            try client.frames.send(Frame(type: MessageType.commit.rawValue,
                                         payload: CommitRequest(generation: generation, lineage: "lineage-test",
                                                                manifestSize: bytes.count, fullRehash: false).encoded()))
            try bytes.withUnsafeBytes { try client.sendData($0) }
            try client.endData()
            let frame = try client.frames.receive()
            guard frame.type == MessageType.error.rawValue else { return nil }
            return try ErrorReply(frame.payload, peer: "replica").code
        }

        /// Expects the replica exactly as before: same trees, same generation, nothing new
        /// anywhere outside its state directory, no object staged under `digest`.
        func expectUnchanged(_ digests: [ContentDigest] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try pair.replicaManifest().treeDigest == before.treeDigest, "live trees changed", sourceLocation: sourceLocation)
            #expect(try store.generation().generation == generation, sourceLocation: sourceLocation)
            #expect(try Hostile.snapshot(pair.scratch.path, excluding: [try replicaState]) == outside,
                    "something outside the replica's state changed", sourceLocation: sourceLocation)
            let staged = try store.objects.inventory()
            for d in digests {
                #expect(!staged.complete.contains(d) && staged.partial[d] == nil, "object \(d) kept", sourceLocation: sourceLocation)
            }
        }

        func close() {
            client.bye()
            _ = shutdown(fds[1], Int32(SHUT_RDWR))
            done.wait()
            Glibc.close(fds[0])
            Glibc.close(fds[1])
        }
    }

    static let tree = "etc/webmin/server-manager"

    /// Manifests no replica may act on, each with the codes it may be refused with.
    static let hostilePlans: [(String, @Sendable (Manifest) -> [ManifestEntry], Set<String>)] = [
        ("dot-dot", { $0.entries + [Hostile.file("\(tree)/../../../escaped")] }, ["badPlan"]),
        ("dot-dot-inside", { $0.entries + [Hostile.file("\(tree)/x/../../escaped")] }, ["badPlan"]),
        ("absolute", { [Hostile.file("/tmp/escaped")] + $0.entries }, ["badPlan"]),
        ("nul", { $0.entries + [Hostile.file("\(tree)/a\0b")] }, ["badPlan"]),
        ("duplicate", { m in
            let file = m.entries.first { $0.kind == .file && $0.path.hasPrefix(tree + "/") }!
            return m.entries + [Hostile.file(file.path, "other content")]
        }, ["badPlan"]),
        ("through-symlink", { m in
            var link = ManifestEntry(path: "\(tree)/zz-link", kind: .symlink, mode: 0o777, mtimeNs: 1)
            link.symlinkTarget = "/tmp"
            return m.entries + [link, Hostile.file("\(tree)/zz-link/escaped")]
        }, ["badPlan", "outsideTrees"]),
        ("outside-trees", { $0.entries + [Hostile.directory("srv"), Hostile.file("srv/escaped")] }, ["outsideTrees"]),
    ]

    @Test(arguments: 0..<hostilePlans.count)
    func hostilePlansAreRefusedAndNothingIsApplied(_ index: Int) throws {
        let (name, make, codes) = Self.hostilePlans[index]
        let s = try Session()
        defer { s.close() }
        let code = try s.commitRaw(Hostile.manifestBytes(make(s.before.replicated)), generation: s.generation + 1)
        #expect(code.map { codes.contains($0) } == true, "\(name) refused with \(code ?? "nothing")")
        try s.expectUnchanged()
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped"))
    }

    /// A delta whose result does not match the digest it claims: refused at flush, not staged,
    /// and a commit that needs it is refused.
    @Test func aDeltaWithTheWrongResultIsRefused() throws {
        let s = try Session()
        defer { s.close() }
        let baseEntry = try #require(s.before.entries.filter { $0.kind == .file && $0.size > 0 }.max { $0.size < $1.size })
        let baseFile = s.pair.replicaRoot + "/" + baseEntry.path
        let baseBytes = Array(try Data(contentsOf: URL(fileURLWithPath: baseFile)))
        let newBytes = baseBytes + Array("appended by the master".utf8)
        let claimed = Hostile.file("\(Self.tree)/claimed", "what the master says the result is").digest!
        // A genuine librsync delta of new against the replica's base.
        var signature: [UInt8] = []
        let generator = try SignatureGenerator(parameters: DeltaParameters(blockLength: 512, strongLength: 16))
        try baseBytes.withUnsafeBytes { try generator.feed($0, isLast: true) { signature.append(contentsOf: $0) } }
        let job = try DeltaGenerator(signature: try signature.withUnsafeBytes { try Signature.load($0) })
        var delta: [UInt8] = []
        try newBytes.withUnsafeBytes { try job.feed($0, isLast: true) { delta.append(contentsOf: $0) } }

        try s.client.beginDelta(PutDelta(target: claimed, size: Int64(newBytes.count), base: baseEntry.digest!))
        try delta.withUnsafeBytes { try s.client.sendData($0) }
        try s.client.endData()
        let outcome = try s.client.flush()
        #expect(outcome.stored == 0)
        #expect(outcome.failures.map(\.code) == ["digestMismatch"])
        #expect(outcome.failures.first?.digest == claimed)

        var needing = s.before.replicated.entries
        needing.append(ManifestEntry(path: "\(Self.tree)/zz-claimed", kind: .file, size: Int64(newBytes.count), mode: 0o644, mtimeNs: 1, digest: claimed))
        #expect(try s.commitRaw(Hostile.manifestBytes(needing), generation: s.generation + 1) == "missingContent")
        try s.expectUnchanged([claimed])
    }

    /// An object whose data stops short (a truncated pack), and one with more data than its
    /// extents: refused at flush, not staged; the commit needing them is refused.
    @Test func truncatedAndOverlongObjectsAreRefused() throws {
        let s = try Session()
        defer { s.close() }
        let content = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = ContentHasher()
        content.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finalize()
        try s.client.beginObject(PutObject(digest: digest, size: Int64(content.count), extents: [], resumeAt: 0))
        try content.prefix(12_000).withUnsafeBytes { try s.client.sendData($0) }
        try s.client.endData()
        try s.client.beginObject(PutObject(digest: digest, size: 100, extents: [DataExtent(offset: 0, length: 100)], resumeAt: 0))
        try content.withUnsafeBytes { try s.client.sendData($0) }
        try s.client.endData()
        let outcome = try s.client.flush()
        #expect(outcome.stored == 0)
        #expect(outcome.failures.map(\.code) == ["badPlan", "badPlan"])

        var needing = s.before.replicated.entries
        needing.append(ManifestEntry(path: "\(Self.tree)/zz-truncated", kind: .file, size: Int64(content.count), mode: 0o644, mtimeNs: 1, digest: digest))
        #expect(try s.commitRaw(Hostile.manifestBytes(needing), generation: s.generation + 1) == "missingContent")
        try s.expectUnchanged([digest])
    }

    /// Compressed data that is not zlib: the replica drops the connection; the partial object
    /// is never complete and the trees are untouched.
    @Test func corruptCompressedDataEndsTheConnection() throws {
        let s = try Session()
        defer { s.close() }
        let digest = Hostile.file("x", "never arrives").digest!
        try s.client.beginObject(PutObject(digest: digest, size: 13, extents: [], resumeAt: 0))
        try s.client.frames.send(Frame(type: MessageType.data.rawValue, payload: Array(repeating: 0xFF, count: 64)))
        try s.client.frames.send(Frame(type: MessageType.dataEnd.rawValue, payload: []))
        #expect(throws: (any Error).self) { _ = try s.client.flush() }
        #expect(try !s.store.objects.inventory().complete.contains(digest))
        #expect(try s.pair.replicaManifest().treeDigest == s.before.treeDigest)
    }
}

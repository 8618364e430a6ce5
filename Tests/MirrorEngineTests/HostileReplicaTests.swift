import Foundation
@testable import MirrorEngine
import SystemPackage
import Testing
import TestSupport
@testable import TreeDiff

/// The real master (`MirrorRun` with its `connector`) against a replica impostor that answers
/// garbage, lies about its generation or its staged data, or sends a manifest with hostile
/// paths: the master never writes outside its state directory, records nothing of the
/// impostor's trees, and reports the replica as broken.
@Suite struct HostileReplicaTests {
    struct Setup {
        let pair: LocalReplicaPair
        let fingerprint: String
        let stateDirectory: String
        let outside: [String: String]

        init() throws {
            pair = try LocalReplicaPair()
            fingerprint = pair.masterKey.fingerprint
            stateDirectory = try pair.master.stateDirectory
            outside = try Hostile.snapshot(pair.scratch.path, excluding: [stateDirectory])
        }

        /// Runs the master against `fake`; expects the replica reported broken and nothing
        /// outside the master's state directory changed.
        @discardableResult
        func runExpectingBroken(_ fake: FakeReplica, sourceLocation: SourceLocation = #_sourceLocation) throws -> ReplicaRunResult {
            let run = try pair.mirrorRun()
            run.connector = fake.connector()
            let outcome = try run.run(RunOptions())
            let result = try #require(outcome.replicas.first, sourceLocation: sourceLocation)
            #expect(!result.ok, sourceLocation: sourceLocation)
            #expect(outcome.failed == ["r1"], sourceLocation: sourceLocation)
            let state = try MasterState(stateDirectory: stateDirectory)
            let record = try state.replica("r1")
            #expect(record.failures == 1 && record.lastError != nil && record.lastSuccess == nil, sourceLocation: sourceLocation)
            #expect(record.generation == 0 && record.treeDigest == nil, sourceLocation: sourceLocation)
            // Nothing of the impostor's is kept as the replica's manifest.
            #expect(state.replicaManifest("r1") == nil, sourceLocation: sourceLocation)
            #expect(try Hostile.snapshot(pair.scratch.path, excluding: [stateDirectory]) == outside,
                    "the master wrote outside its state directory", sourceLocation: sourceLocation)
            let replicas = try FileManager.default.contentsOfDirectory(atPath: stateDirectory + "/master/replicas")
            #expect(replicas == ["r1.json"], sourceLocation: sourceLocation)
            return result
        }
    }

    /// Ways to answer the master's hello with garbage.
    static let garbage: [(String, @Sendable (FrameStream) throws -> Void)] = [
        ("unknown frame type", { try $0.send(Frame(type: 0x99, payload: [1, 2, 3])) }),
        ("hello reply that does not decode", { try $0.send(Frame(type: MessageType.helloReply.rawValue, payload: [0, 0, 0, 1, 0xFF, 0xFF])) }),
        ("hello reply with trailing bytes", {
            var payload = FakeReplica.hello(fingerprint: "x").payload
            payload.append(0)
            try $0.send(Frame(type: MessageType.helloReply.rawValue, payload: payload))
        }),
        ("a frame longer than the protocol allows", { frames in
            // A header alone, announcing a 4 GiB payload.
            try [MessageType.helloReply.rawValue, 0xFF, 0xFF, 0xFF, 0xFF].withUnsafeBytes { try frames.stream.write($0) }
        }),
        ("an error frame that does not decode", { try $0.send(Frame(type: MessageType.error.rawValue, payload: [0xFF])) }),
        ("a request instead of a reply", { try $0.send(Frame(type: MessageType.commit.rawValue, payload: [])) }),
        ("a manifest reply instead of a hello reply", { try FakeReplica.reply(Array("CMMF".utf8), on: $0) }),
    ]

    @Test(arguments: 0..<garbage.count)
    func garbageInsteadOfAHelloReply(_ index: Int) throws {
        let setup = try Setup()
        let answer = Self.garbage[index].1
        let fake = FakeReplica { frame, frames in
            guard frame.type == MessageType.hello.rawValue else { return false }
            try answer(frames)
            return true
        }
        try setup.runExpectingBroken(fake)
    }

    /// Raw bytes that are not frames at all (another program's banner), then the link closes.
    @Test func unframedBytes() throws {
        let setup = try Setup()
        let fake = FakeReplica { frame, frames in
            guard frame.type == MessageType.hello.rawValue else { return false }
            try Array("SSH-2.0-OpenSSH garbage\r\n".utf8).withUnsafeBytes { try frames.stream.write($0) }
            return false
        }
        try setup.runExpectingBroken(fake)
    }

    /// A well-formed hello, then a manifest holding paths no tree has.
    static let hostileManifests: [(String, [ManifestEntry])] = [
        ("dot-dot", [Hostile.directory("etc"), Hostile.file("etc/../../escaped")]),
        ("absolute", [Hostile.file("/etc/passwd")]),
        ("nul", [Hostile.file("etc/a\0b")]),
        ("duplicate", [Hostile.file("etc/a"), Hostile.file("etc/a", "y")]),
        ("unsorted", [Hostile.file("etc/b"), Hostile.file("etc/a")]),
    ]

    @Test(arguments: 0..<hostileManifests.count)
    func hostileManifestFromTheReplica(_ index: Int) throws {
        let setup = try Setup()
        let bytes = Self.hostileManifests[index].1
        let fingerprint = setup.fingerprint
        let fake = FakeReplica { frame, frames in
            switch MessageType(rawValue: frame.type) {
            case .hello: try frames.send(FakeReplica.hello(fingerprint: fingerprint))
            case .getManifest: try FakeReplica.reply(Hostile.manifestBytes(bytes), on: frames)
            default: return false
            }
            return true
        }
        try setup.runExpectingBroken(fake)
        #expect(fake.received.contains(MessageType.getManifest.rawValue))
        #expect(!fake.received.contains(MessageType.commit.rawValue), "the master committed against a manifest it could not read")
    }

    /// A replica that claims the largest generation of the master's own lineage.
    @Test func aGenerationAtTheTopOfTheRange() throws {
        let setup = try Setup()
        let fingerprint = setup.fingerprint
        let digest = Hostile.file("x", "a tree that is not the master's").digest!
        let fake = FakeReplica { frame, frames in
            guard frame.type == MessageType.hello.rawValue else { return false }
            try frames.send(FakeReplica.hello(fingerprint: fingerprint, generation: .max, lineage: "lineage-test", treeDigest: digest))
            return true
        }
        try setup.runExpectingBroken(fake)
        let record = try #require(try MasterState(stateDirectory: setup.stateDirectory).record())
        #expect(record.generation < .max, "the master's generation counter was pushed to its end")
    }

    /// A replica that claims huge amounts of partial data for what the master must send: the
    /// master resumes nowhere past a file's data.
    @Test func partialDataLargerThanTheFiles() throws {
        let setup = try Setup()
        let fingerprint = setup.fingerprint
        let manifest = try setup.pair.masterManifest()
        let partial = Dictionary(manifest.entries.compactMap { $0.kind == .file && $0.size > 0 ? $0.digest : nil }.map { ($0, Int64.max) },
                                 uniquingKeysWith: { a, _ in a })
        #expect(partial.count > 2)
        let fake = FakeReplica { frame, frames in
            switch MessageType(rawValue: frame.type) {
            case .hello: try frames.send(FakeReplica.hello(fingerprint: fingerprint, partial: partial))
            case .getManifest: try FakeReplica.reply(try Manifest(entries: []).encoded(), on: frames)
            case .flush: try frames.send(Frame(type: MessageType.flushReply.rawValue, payload: FlushReply(stored: 0, failures: []).encoded()))
            case .commit:
                try frames.send(Frame(type: MessageType.error.rawValue,
                                      payload: ErrorReply(code: "missingContent", message: "").encoded()))
            default: break
            }
            return true
        }
        try setup.runExpectingBroken(fake)
    }

    /// A replica that acknowledges a commit with another tree than the master sent.
    @Test func aCommitReplyForAnotherTree() throws {
        let setup = try Setup()
        let fingerprint = setup.fingerprint
        let other = Hostile.file("x", "another tree").digest!
        let committing = Flag()
        let fake = FakeReplica { frame, frames in
            switch MessageType(rawValue: frame.type) {
            case .hello: try frames.send(FakeReplica.hello(fingerprint: fingerprint))
            case .getManifest: try FakeReplica.reply(try Manifest(entries: []).encoded(), on: frames)
            case .flush: try frames.send(Frame(type: MessageType.flushReply.rawValue, payload: FlushReply(stored: 0, failures: []).encoded()))
            case .commit: committing.value = true
            case .dataEnd:
                // The end of the manifest's data (after the commit request): acknowledge a lie.
                if committing.value {
                    try frames.send(Frame(type: MessageType.commitReply.rawValue,
                                          payload: CommitReply(generation: 1, treeDigest: other, bytesPlaced: 0).encoded()))
                }
            default: break
            }
            return true
        }
        try setup.runExpectingBroken(fake)
    }
}

/// A flag set and read by the impostor's responder thread only.
final class Flag: @unchecked Sendable {
    // @unchecked: only the one responder thread touches `value`.
    var value = false
}

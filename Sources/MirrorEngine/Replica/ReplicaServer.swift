import Foundation
import SystemPackage
import TreeDiff

/// The replica's side of the replication protocol: what `cloudmin-mirror replica serve` runs
/// for the master's forced-command SSH connection.
public enum ReplicaServer {
    /// Serves the replica protocol on `stream` until the master says goodbye or closes it.
    /// - Parameters:
    ///   - context: this replica's configuration and paths.
    ///   - stream: the connection (stdin/stdout under sshd).
    ///   - clientFingerprint: the fingerprint of the key the master logged in with, as written
    ///     in the forced command by `replica init`.
    /// - Throws: `ProtocolError` when the stream breaks; refusals are sent to the master as
    ///   error replies, not thrown.
    public static func serve(context: MirrorContext, stream: ByteStream, clientFingerprint: String) throws {
        let session = try ReplicaSession(context: context, frames: FrameStream(stream, peer: "master"),
                                         clientFingerprint: clientFingerprint)
        try session.run()
    }
}

/// One master connection: checks who it is, answers questions about what the replica holds,
/// receives staged content and commits generations.
final class ReplicaSession {
    let context: MirrorContext
    let frames: FrameStream
    let clientFingerprint: String
    private var store: ReplicaStore?
    private var lock: RunLock?
    private let inflater: Inflater
    private var upload: Upload = .none
    private var failures: [FlushReply.Failure] = []
    private var stored = 0

    enum Upload {
        case none
        case object(ObjectWriter)
        case delta(PatchUpload)
        case blockPatch(BlockPatchUpload)
        case manifest(CommitRequest, [UInt8])
        /// An upload that failed: its remaining data is decompressed and dropped.
        case discarding
    }

    init(context: MirrorContext, frames: FrameStream, clientFingerprint: String) throws {
        self.context = context
        self.frames = frames
        self.clientFingerprint = clientFingerprint
        inflater = try Inflater(maxOutput: Int64.max)
    }

    func run() throws {
        defer { if case .object(let w) = upload { w.suspend() } }
        while true {
            let frame: Frame
            do { frame = try frames.receive() } catch let e as ProtocolError where e.code == .closed { return }
            guard let type = MessageType(rawValue: frame.type) else {
                try reply(error: "badRequest", "unknown frame type \(frame.type)")
                return
            }
            if type != .hello && store == nil {
                try reply(error: "badRequest", "hello first")
                return
            }
            switch type {
            case .hello:
                guard try hello(HelloRequest(frame.payload, peer: frames.peer)) else { return }
            case .getManifest:
                var r = WireReader(frame.payload, peer: frames.peer)
                let full = try r.bool()
                let manifest = try store!.scanLive(fullRehash: full).replicated
                try sendReplyData(manifest.encoded())
            case .getSignature:
                try signature(GetSignature(frame.payload, peer: frames.peer))
            case .putObject:
                try startObject(PutObject(frame.payload, peer: frames.peer))
            case .putDelta:
                try startDelta(PutDelta(frame.payload, peer: frames.peer))
            case .getBlockMap:
                try blockMap(GetBlockMap(frame.payload, peer: frames.peer))
            case .putPatch:
                startPatch(try PutDelta(frame.payload, peer: frames.peer))
            case .data:
                try frame.payload.withUnsafeBytes { raw in
                    try inflater.feed(raw, isLast: false) { chunk in self.receive(chunk) }
                }
            case .dataEnd:
                try endUpload()
            case .flush:
                try frames.send(Frame(type: MessageType.flushReply.rawValue,
                                      payload: FlushReply(stored: stored, failures: failures).encoded()))
                try frames.flush()
                failures = []
                stored = 0
            case .commit:
                upload = .manifest(try CommitRequest(frame.payload, peer: frames.peer), [])
            case .bye:
                try frames.flush()
                guard frame.payload == ByeMode.keepOpen else { return }
                endConversation()
            default:
                try reply(error: "badRequest", "unexpected frame \(type)")
                return
            }
        }
    }

    /// The master ended a run but keeps the connection: let go of the lock (so promotion or
    /// setup on this host need not wait for the master) and of the store; the next run starts
    /// with a hello, which checks the role again.
    private func endConversation() {
        if case .object(let w) = upload { w.suspend() }
        upload = .none
        failures = []
        stored = 0
        store = nil
        lock = nil
    }

    /// Checks role and key; opens the store (finishing any interrupted commit) under the lock.
    /// On a warm connection every run starts with a hello: the role is checked again then.
    private func hello(_ request: HelloRequest) throws -> Bool {
        guard request.version == ProtocolVersion.current else {
            try reply(error: "versionMismatch", "replica speaks protocol \(ProtocolVersion.current), master \(request.version)")
            return false
        }
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        guard role.role == .replica else {
            try reply(error: "wrongRole", "this host is \(role.role == .master ? "a master" : "not set up as a replica"); refusing to accept replication")
            return false
        }
        guard role.masterFingerprint == clientFingerprint else {
            try reply(error: "wrongMaster", "this replica accepts master \(role.masterFingerprint ?? "none"), not \(clientFingerprint)")
            return false
        }
        if lock == nil { lock = try context.lock(waitSeconds: 60) }
        let store = try ReplicaStore(stateDirectory: context.stateDirectory, root: context.paths.rootDirectory, trees: context.trees)
        do {
            try store.recover()
        } catch {
            // Tell the master why (a full disk, most often), rather than closing on it.
            let noSpace = (error as? Errno) == .noSpace || (error as? ReplicaError)?.code == .noSpace
            try reply(error: noSpace ? "noSpace" : "recoveryFailed",
                      "the replica could not finish its interrupted commit: \(error); "
                      + (noSpace ? "free space on the replica's disk and run again" : "check the replica's disk and state directory, then run again"))
            return false
        }
        self.store = store
        let generation = try store.generation()
        let inventory = try store.objects.inventory()
        let answer = HelloReply(version: ProtocolVersion.current, role: "replica", acceptedMaster: clientFingerprint,
                                generation: generation.generation, lineage: generation.lineage,
                                treeDigest: generation.treeDigest, freeBytes: (try? store.freeBytes()) ?? 0,
                                staged: inventory.complete, partial: inventory.partial)
        try frames.send(Frame(type: MessageType.helloReply.rawValue, payload: answer.encoded()))
        try frames.flush()
        return true
    }

    private func signature(_ request: GetSignature) throws {
        guard let fd = try store!.openContent(request.digest) else {
            try reply(error: "missingBase", "no content \(request.digest) on this replica")
            return
        }
        defer { try? fd.close() }
        var out: [UInt8] = []
        let parameters = DeltaParameters(blockLength: request.blockLength, strongLength: request.strongLength)
        try DeltaFiles.signature(of: fd, parameters: parameters) { out.append(contentsOf: $0) }
        try sendReplyData(out)
    }

    private func blockMap(_ request: GetBlockMap) throws {
        guard let fd = try store!.openContent(request.digest) else {
            try reply(error: "missingBase", "no content \(request.digest) on this replica")
            return
        }
        defer { try? fd.close() }
        let size = try fd.seek(offset: 0, from: .end)
        let map = try BlockMap.build(fd: fd.rawValue, size: size, context: "content \(request.digest)")
        try sendReplyData(map.encoded())
    }

    private func startPatch(_ request: PutDelta) {
        do {
            guard let base = try store!.openContent(request.base) else {
                throw ReplicaError(.missingBase, path: "object \(request.target)", detail: "base \(request.base) is not here")
            }
            upload = .blockPatch(try BlockPatchUpload(store: store!.objects, request: request, base: base))
        } catch {
            fail(request.target, error)
            upload = .discarding
        }
    }

    private func startObject(_ request: PutObject) throws {
        do {
            // Only a resume needs to know what arrived before (listing the objects per upload
            // would cost O(n^2) over a run's thousands of files).
            let resume = request.resumeAt == 0 ? 0
                : store!.objects.partialBytes(request.digest) == request.resumeAt ? request.resumeAt : 0
            guard resume == request.resumeAt else {
                fail(request.digest, ReplicaError(.badPlan, path: "object \(request.digest)", detail: "cannot resume at \(request.resumeAt)"))
                upload = .discarding
                return
            }
            upload = .object(try store!.objects.begin(request.digest, size: request.size, extents: request.extents, resumeAt: resume))
        } catch {
            fail(request.digest, error)
            upload = .discarding
        }
    }

    private func startDelta(_ request: PutDelta) throws {
        do {
            guard let base = try store!.openContent(request.base) else {
                throw ReplicaError(.missingBase, path: "object \(request.target)", detail: "base \(request.base) is not here")
            }
            upload = .delta(try PatchUpload(store: store!.objects, request: request, base: base))
        } catch {
            fail(request.target, error)
            upload = .discarding
        }
    }

    /// Routes decompressed data to the current upload; a failing upload turns into discarding.
    private func receive(_ chunk: UnsafeRawBufferPointer) {
        switch upload {
        case .object(let writer):
            do { try writer.write(chunk) } catch {
                writer.suspend()
                store?.objects.discard(writer.digest)
                fail(writer.digest, error)
                upload = .discarding
            }
        case .delta(let patch):
            do { try patch.write(chunk) } catch {
                patch.abandon()
                fail(patch.request.target, error)
                upload = .discarding
            }
        case .blockPatch(let patch):
            do { try patch.write(chunk) } catch {
                patch.abandon()
                fail(patch.request.target, BlockPatchUpload.replicaError(error, patch.request))
                upload = .discarding
            }
        case .manifest(let request, var bytes):
            guard bytes.count + chunk.count <= request.manifestSize else { upload = .discarding; return }
            upload = .none
            bytes.append(contentsOf: chunk)
            upload = .manifest(request, bytes)
        case .none, .discarding:
            break
        }
    }

    private func endUpload() throws {
        let current = upload
        upload = .none
        switch current {
        case .object(let writer):
            do { try writer.finish(); stored += 1 } catch { fail(writer.digest, error) }
        case .delta(let patch):
            do { try patch.finish(); stored += 1 } catch { patch.abandon(); fail(patch.request.target, error) }
        case .blockPatch(let patch):
            do { try patch.finish(); stored += 1 } catch {
                patch.abandon()
                fail(patch.request.target, BlockPatchUpload.replicaError(error, patch.request))
            }
        case .manifest(let request, let bytes):
            try commit(request, bytes)
        case .none, .discarding:
            break
        }
    }

    private func commit(_ request: CommitRequest, _ bytes: [UInt8]) throws {
        do {
            guard bytes.count == request.manifestSize else {
                throw ReplicaError(.badPlan, path: "manifest", detail: "\(bytes.count) of \(request.manifestSize) bytes")
            }
            // Promotion and repointing take the lock we hold, but a role file changed by hand
            // must still stop a commit from an old master.
            let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
            guard role.role == .replica, role.masterFingerprint == clientFingerprint else {
                throw ReplicaError(.wrongRole, path: "replica", detail: "this host no longer accepts replication from \(clientFingerprint)")
            }
            let manifest: Manifest
            if let changes = request.changes {
                guard let recorded = try store!.recordedManifest(), recorded.treeDigest == changes.base else {
                    try reply(error: "baseMismatch", "this replica does not hold the manifest \(changes.base) the changes apply to")
                    return
                }
                manifest = try ManifestChanges(decoding: bytes).applied(to: recorded)
                guard manifest.treeDigest == changes.target else {
                    throw ReplicaError(.badPlan, path: "manifest", detail: "the changes give tree \(manifest.treeDigest), not \(changes.target)")
                }
            } else {
                manifest = try Manifest(decoding: bytes)
            }
            let held = try store!.generation()
            if held.lineage == request.lineage && request.generation <= held.generation && held.treeDigest != manifest.treeDigest {
                throw ReplicaError(.wrongGeneration, path: "generation \(request.generation)",
                                   detail: "this replica holds generation \(held.generation) of the same lineage")
            }
            let outcome = try store!.commit(manifest, generation: request.generation, lineage: request.lineage,
                                            fullRehash: request.fullRehash)
            let answer = CommitReply(generation: outcome.generation.generation, treeDigest: outcome.generation.treeDigest ?? manifest.treeDigest,
                                     bytesPlaced: outcome.bytesPlaced)
            try frames.send(Frame(type: MessageType.commitReply.rawValue, payload: answer.encoded()))
            try frames.flush()
        } catch let e as ReplicaError {
            try reply(error: e.code.rawValue, e.code == .missingContent ? e.detail : e.description)
        } catch let e as ManifestError {
            try reply(error: "badPlan", "manifest refused: \(e)")
        }
    }

    private func fail(_ digest: ContentDigest, _ error: any Error) {
        let code = (error as? ReplicaError)?.code.rawValue ?? "io"
        failures.append(FlushReply.Failure(digest: digest, code: code, message: "\(error)"))
    }

    private func reply(error code: String, _ message: String) throws {
        try frames.send(Frame(type: MessageType.error.rawValue, payload: ErrorReply(code: code, message: message).encoded()))
        try frames.flush()
    }

    /// Sends bytes as reply data frames and an end marker.
    private func sendReplyData(_ bytes: [UInt8]) throws {
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + (1 << 20))
            try frames.send(Frame(type: MessageType.replyData.rawValue, payload: Array(bytes[offset..<end])))
            offset = end
        } while offset < bytes.count
        try frames.send(Frame(type: MessageType.replyEnd.rawValue, payload: []))
        try frames.flush()
    }
}

/// Applies an incoming delta against a base the replica holds, into a staged object.
final class PatchUpload {
    let request: PutDelta
    let store: ObjectStore
    private let base: FileDescriptor
    private let output: FileDescriptor
    private let writer: FileWriter
    private let patcher: Patcher

    init(store: ObjectStore, request: PutDelta, base: FileDescriptor) throws {
        self.store = store
        self.request = request
        self.base = base
        output = try store.createPart(request.target)
        writer = FileWriter(fd: output, sparse: true)
        patcher = try Patcher(base: base)
    }

    deinit {
        try? base.close()
        try? output.close()
    }

    /// Applies the next piece of the delta; output past the announced size is refused at
    /// once, so a hostile delta cannot fill the disk before `finish` checks the size.
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        try patcher.feed(chunk, isLast: false) { out in
            guard writer.offset + Int64(out.count) <= request.size else {
                throw ReplicaError(.digestMismatch, path: "object \(request.target)", detail: "the delta writes past the announced size \(request.size)")
            }
            try writer.write(out)
        }
    }

    /// Ends the patch, checks size and digest, and makes the result a complete object.
    func finish() throws {
        try patcher.feed(UnsafeRawBufferPointer(start: nil, count: 0), isLast: true) { try writer.write($0) }
        try writer.finish()
        guard writer.offset == request.size else {
            throw ReplicaError(.digestMismatch, path: "object \(request.target)", detail: "patched to \(writer.offset) bytes, expected \(request.size)")
        }
        try output.resize(to: request.size)
        let check = try FileDigester.digest(of: output, size: request.size)
        guard check.digest == request.target else {
            throw ReplicaError(.digestMismatch, path: "object \(request.target)", detail: "patch produced \(check.digest)")
        }
        try store.complete(request.target)
    }

    func abandon() { store.discard(request.target) }
}

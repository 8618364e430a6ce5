import TreeDiff

/// The master's side of the replica protocol on one connection.
final class ReplicaClient {
    let frames: FrameStream
    let peer: String
    private let deflater: Deflater
    /// Compressed data bytes sent (object and delta payloads, manifests).
    private(set) var dataBytesSent: Int64 = 0

    init(stream: ByteStream, peer: String, compressionLevel: Int) throws {
        frames = FrameStream(stream, peer: peer)
        self.peer = peer
        deflater = try Deflater(level: compressionLevel)
    }

    /// Total bytes written to the connection (frames and headers).
    var bytesSent: Int { frames.bytesSent }

    func hello(fingerprint: String, lineage: String) throws -> HelloReply {
        try frames.send(Frame(type: MessageType.hello.rawValue,
                              payload: HelloRequest(version: ProtocolVersion.current, masterFingerprint: fingerprint, lineage: lineage).encoded()))
        let reply = try expect(.helloReply)
        return try HelloReply(reply.payload, peer: peer)
    }

    /// The replica's live manifest (freshly scanned there; `full` rehashes every file).
    func manifest(fullRehash: Bool) throws -> Manifest {
        var w = WireWriter()
        w.bool(fullRehash)
        try frames.send(Frame(type: MessageType.getManifest.rawValue, payload: w.bytes))
        let bytes = try replyData(limit: CommitRequest.maxManifest)
        do { return try Manifest(decoding: bytes) } catch {
            throw ProtocolError(.badValue, peer: peer, detail: "its manifest is refused: \(error)")
        }
    }

    /// The signature of the replica's content `digest`, or nil when it has none.
    func signature(of digest: ContentDigest, parameters: DeltaParameters) throws -> [UInt8]? {
        try frames.send(Frame(type: MessageType.getSignature.rawValue,
                              payload: GetSignature(digest: digest, blockLength: parameters.blockLength,
                                                    strongLength: parameters.strongLength).encoded()))
        do {
            return try replyData(limit: 1 << 30)
        } catch let e as ProtocolError {
            if case .remote("missingBase") = e.code { return nil }
            throw e
        }
    }

    /// The block map of the replica's content `digest`, or nil when it has none.
    /// - Throws: `ProtocolError`; `BlockError.corruptMap` when the reply is not a valid map.
    func blockMap(of digest: ContentDigest) throws -> BlockMap? {
        try frames.send(Frame(type: MessageType.getBlockMap.rawValue, payload: GetBlockMap(digest: digest).encoded()))
        let bytes: [UInt8]
        do {
            bytes = try replyData(limit: 1 << 30)
        } catch let e as ProtocolError {
            if case .remote("missingBase") = e.code { return nil }
            throw e
        }
        return try BlockMap(decoding: bytes, context: "block map from \(peer)")
    }

    /// Starts a block patch upload against the replica's content `request.base`.
    func beginPatch(_ request: PutDelta) throws {
        try frames.send(Frame(type: MessageType.putPatch.rawValue, payload: request.encoded()))
    }

    /// Starts an object upload; its data follows through `sendData` and `endData`.
    func beginObject(_ request: PutObject) throws {
        try frames.send(Frame(type: MessageType.putObject.rawValue, payload: request.encoded()))
    }

    func beginDelta(_ request: PutDelta) throws {
        try frames.send(Frame(type: MessageType.putDelta.rawValue, payload: request.encoded()))
    }

    /// Compresses and sends upload data.
    func sendData(_ bytes: UnsafeRawBufferPointer) throws {
        try deflater.feed(bytes, isLast: false) { try self.sendCompressed($0) }
    }

    /// Compresses and sends a whole buffer of upload data, in 1 MiB pieces.
    func sendAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(raw.count, offset + (1 << 20))
                try sendData(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
    }

    /// Ends the current upload (a sync flush, so the replica can finish it now).
    func endData() throws {
        try deflater.flush { try self.sendCompressed($0) }
        try frames.send(Frame(type: MessageType.dataEnd.rawValue, payload: []))
    }

    private func sendCompressed(_ chunk: UnsafeRawBufferPointer) throws {
        guard !chunk.isEmpty else { return }
        dataBytesSent += Int64(chunk.count)
        try frames.send(Frame(type: MessageType.data.rawValue, payload: Array(chunk)))
    }

    /// What the uploads since the last flush came to.
    func flush() throws -> FlushReply {
        try frames.send(Frame(type: MessageType.flush.rawValue, payload: []))
        return try FlushReply(try expect(.flushReply).payload, peer: peer)
    }

    /// Sends the new generation's manifest and asks the replica to commit it.
    /// - Throws: `ProtocolError` with `.remote(code)`: `missingContent` (message: the digests,
    ///   comma-separated), `noSpace`, `outsideTrees`, `wrongGeneration`, ...
    /// - Parameters:
    ///   - treeDigest: `manifest`'s tree digest (the caller has it; computing it hashes every entry).
    ///   - base: the manifest the replica holds and its tree digest (as in its hello), so only
    ///     the changes are sent; nil sends the whole manifest. A replica whose recorded
    ///     manifest is not that base says `baseMismatch`, and the whole manifest follows.
    func commit(_ manifest: Manifest, treeDigest: ContentDigest, base: (manifest: Manifest, treeDigest: ContentDigest)?,
                generation: UInt64, lineage: String, fullRehash: Bool = false) throws -> CommitReply {
        if let base {
            let changes = ManifestChanges.between(base.manifest, manifest).encoded()
            do {
                return try sendCommit(changes, CommitRequest(generation: generation, lineage: lineage, manifestSize: changes.count,
                                                             fullRehash: fullRehash, changes: (base.treeDigest, treeDigest)))
            } catch let e as ProtocolError where e.code == .remote("baseMismatch") {
                // Fall through: the whole manifest.
            }
        }
        let bytes = manifest.replicated.encoded()
        return try sendCommit(bytes, CommitRequest(generation: generation, lineage: lineage, manifestSize: bytes.count,
                                                   fullRehash: fullRehash))
    }

    private func sendCommit(_ bytes: [UInt8], _ request: CommitRequest) throws -> CommitReply {
        try frames.send(Frame(type: MessageType.commit.rawValue, payload: request.encoded()))
        try bytes.withUnsafeBytes { try sendData($0) }
        try endData()
        return try CommitReply(try expect(.commitReply).payload, peer: peer)
    }

    func bye() {
        try? frames.send(Frame(type: MessageType.bye.rawValue, payload: []))
        try? frames.flush()
    }

    private func expect(_ type: MessageType) throws -> Frame {
        let frame = try frames.receive()
        if frame.type == MessageType.error.rawValue {
            let e = try ErrorReply(frame.payload, peer: peer)
            throw ProtocolError(.remote(e.code), peer: peer, detail: e.message)
        }
        guard frame.type == type.rawValue else {
            throw ProtocolError(.unexpected, peer: peer, detail: "expected \(type), got frame type \(frame.type)")
        }
        return frame
    }

    private func replyData(limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let frame = try frames.receive()
            switch MessageType(rawValue: frame.type) {
            case .replyData:
                guard out.count + frame.payload.count <= limit else {
                    throw ProtocolError(.tooLarge, peer: peer, detail: "reply over \(limit) bytes")
                }
                out.append(contentsOf: frame.payload)
            case .replyEnd:
                return out
            case .error:
                let e = try ErrorReply(frame.payload, peer: peer)
                throw ProtocolError(.remote(e.code), peer: peer, detail: e.message)
            default:
                throw ProtocolError(.unexpected, peer: peer, detail: "frame type \(frame.type) in a reply")
            }
        }
    }
}

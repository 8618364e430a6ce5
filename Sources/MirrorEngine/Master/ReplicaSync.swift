#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SSHTransport
import SystemPackage
import TreeDiff

/// Brings one replica to the master's generation: hello, plan, ship, commit.
final class ReplicaSync {
    /// Files at least this big go as deltas when the replica holds an older version.
    static let deltaThreshold: Int64 = 64 << 10
    /// Files at least this big (VM images) go as block patches: fixed 4 KiB blocks compared by
    /// the master against its block map of the replica's version, reading only data extents.
    /// Smaller ones use librsync's rolling checksum, which also finds shifted content.
    static let blockPatchThreshold: Int64 = 8 << 20

    let owner: MirrorRun
    let context: MirrorContext
    let state: MasterState
    let replica: ReplicaConfig
    let manifest: Manifest
    /// The manifest's tree digest, computed once (it hashes every entry).
    private lazy var treeDigest = manifest.treeDigest
    private(set) var record: MasterRecord
    let fingerprint: String
    let options: RunOptions
    private let reader: TreeWriter
    private var result: ReplicaRunResult

    init(run: MirrorRun, context: MirrorContext, state: MasterState, replica: ReplicaConfig, manifest: Manifest,
         record: MasterRecord, fingerprint: String, options: RunOptions) {
        self.owner = run
        self.context = context
        self.state = state
        self.replica = replica
        self.manifest = manifest
        self.record = record
        self.fingerprint = fingerprint
        self.options = options
        reader = TreeWriter(root: context.paths.rootDirectory, trees: context.trees)
        result = ReplicaRunResult(name: replica.name)
    }

    /// Runs; failures end up in the result (and in the replica's record), never thrown.
    func perform() -> ReplicaRunResult {
        let start = Date()
        var saved = (try? state.replica(replica.name)) ?? ReplicaRecord(name: replica.name)
        saved.lastAttempt = start.timeIntervalSince1970
        do {
            try sync(&saved)
            saved.lastError = nil
            saved.failures = 0
        } catch {
            result.error = "\(error)"
            saved.lastError = "\(error)"
            saved.failures += 1
        }
        result.seconds = Date().timeIntervalSince(start)
        if !options.dryRun {
            saved.lastSeconds = result.seconds
            saved.lastBytesSent = result.bytesSent
            saved.lastFilesSent = result.filesSent + result.deltasSent
            try? state.save(saved)
        }
        return result
    }

    /// The SSH connector: the replica's pinned host key is required.
    static func sshConnector(_ replica: ReplicaConfig, _ context: MirrorContext) throws -> ReplicaConnection {
        let policy = HostKeyPolicy.requireKnown(knownHostsPath: context.paths.host(context.config.knownHosts))
        let (session, channel) = try connect(replica, context: context, policy: policy)
        return ReplicaConnection(stream: ExecStream(channel)) { try? session.close() }
    }

    /// Opens the replication connection to a replica.
    static func connect(_ replica: ReplicaConfig, context: MirrorContext, policy: HostKeyPolicy) throws -> (SSHSession, ExecChannel) {
        let identity = context.paths.host(replica.identity ?? context.config.identity)
        let session = try SSHSession.connect(host: replica.host, port: replica.port, user: replica.user,
                                             identity: .keyFile(path: identity, passphrase: nil), hostKeyPolicy: policy)
        let channel = try ExecChannel(session: session, command: "cloudmin-mirror-rpc")
        return (session, channel)
    }

    /// Opens a new connection and its protocol client.
    private func open() throws -> PooledClient {
        let connection = try owner.pending?.take(replica.name) ?? owner.connector(replica, context)
        do {
            let client = try ReplicaClient(stream: connection.stream, peer: "replica \(replica.name)",
                                           compressionLevel: context.config.compressionLevel)
            return PooledClient(replica: replica, fingerprint: fingerprint, connection: connection, client: client)
        } catch {
            connection.close()
            throw error
        }
    }

    /// Connects (or takes the pool's warm connection), runs the conversation, then either
    /// returns the connection to the pool or says goodbye. A connection that saw an error is
    /// closed: its stream state is unknown.
    private func sync(_ saved: inout ReplicaRecord) throws {
        guard let pool = owner.pool else {
            let pooled = try open()
            defer { pooled.close() }
            let start = pooled.client.bytesSent
            defer { result.bytesSent = Int64(pooled.client.bytesSent - start) }
            let hello = try pooled.client.hello(fingerprint: fingerprint, lineage: record.lineage)
            try converse(&saved, pooled.client, hello)
            return
        }
        var pooled = try pool.checkout(replica, fingerprint: fingerprint, open: open)
        var start = pooled.client.bytesSent
        defer { result.bytesSent = Int64(pooled.client.bytesSent - start) }
        let hello: HelloReply
        do {
            hello = try pooled.client.hello(fingerprint: fingerprint, lineage: record.lineage)
        } catch where pooled.reused && !Self.isRefusal(error) {
            // The idle link was dropped (replica restarted, firewall timeout): reconnect once.
            pooled.connection.close()
            owner.log("\(replica.name): warm connection lost (\(error)); reconnecting")
            pooled = try pool.connect(replica, open: open)
            start = pooled.client.bytesSent
            hello = try pooled.client.hello(fingerprint: fingerprint, lineage: record.lineage)
        }
        do {
            try converse(&saved, pooled.client, hello)
        } catch {
            pooled.connection.close()
            throw error
        }
        do {
            try pooled.client.rest()
            pool.checkin(pooled)
        } catch {
            pooled.connection.close()  // the run is done; the next one reconnects
        }
    }

    /// Whether the replica answered (refused) rather than the link failing.
    private static func isRefusal(_ error: any Error) -> Bool {
        if let e = error as? ProtocolError, case .remote = e.code { return true }
        return false
    }

    private func converse(_ saved: inout ReplicaRecord, _ client: ReplicaClient, _ hello: HelloReply) throws {
        guard hello.role == "replica", hello.acceptedMaster == fingerprint else {
            throw ReplicaError(.wrongRole, path: "replica \(replica.name)", detail: "it accepts master \(hello.acceptedMaster)")
        }
        result.previousGeneration = hello.generation
        // A replica ahead of our counter in our own lineage (master state restored from
        // backup): move past it so generations keep increasing.
        if hello.lineage == record.lineage && hello.generation >= record.generation && hello.treeDigest != treeDigest {
            guard hello.generation < UInt64.max else {
                throw ReplicaError(.wrongGeneration, path: "replica \(replica.name)",
                                   detail: "it claims generation \(hello.generation), beyond any the master made; check that host")
            }
            record.generation = hello.generation + 1
            if !options.dryRun { try state.save(record) }
        }
        if hello.treeDigest == treeDigest && !options.forceManifest {
            result.upToDate = true
            result.generation = hello.generation
            if !options.dryRun && saved.treeDigest != hello.treeDigest {
                try state.saveReplicaManifest(manifest, replica.name)  // e.g. a commit that finished after we lost the link
            }
            try recordSuccess(&saved, generation: hello.generation)
            return
        }

        // What the replica holds: our record of it when it matches, else its own manifest.
        var base: Manifest
        if !options.forceManifest, saved.generation == hello.generation, saved.treeDigest == hello.treeDigest,
           let cached = state.replicaManifest(replica.name), cached.treeDigest == hello.treeDigest {
            base = cached
        } else {
            base = try client.manifest(fullRehash: options.fullRehash)
            result.fetchedManifest = true
        }
        let plan = ChangePlan.make(from: base, to: manifest)
        // Only the manifest's changes go with the commit when the replica records this base.
        // (Not for an empty replica: the changes would be the whole manifest and a copy of it.)
        let baseDigest = base.treeDigest
        let commitBase = base.count > 0 && baseDigest == hello.treeDigest ? (manifest: base, treeDigest: baseDigest) : nil
        result.summary = plan.summary
        if options.itemize || options.dryRun { result.itemized = plan.itemizedLines }
        if options.dryRun { result.generation = hello.generation; return }

        // Content the replica lacks: not in its trees, not staged.
        let onReplica = Set(base.pathsByDigest().keys).union(hello.staged)
        var needed: [(entry: ManifestEntry, base: ContentDigest?)] = []
        var seen = Set<ContentDigest>()
        for item in plan.items {
            guard let entry = item.entry, entry.kind == .file, let digest = entry.digest, entry.size > 0 else { continue }
            guard !onReplica.contains(digest), seen.insert(digest).inserted else { continue }
            if case .changedFile(let b) = item.action { needed.append((entry, b)) } else { needed.append((entry, nil)) }
        }
        let bytesNeeded = needed.reduce(Int64(0)) { $0 + $1.entry.allocatedBytes }
        guard bytesNeeded < hello.freeBytes else {
            throw ReplicaError(.noSpace, path: "replica \(replica.name)",
                               detail: "needs about \(bytesNeeded) bytes, \(hello.freeBytes) free; free space there and run again")
        }

        // Ship: deltas where the replica has an older version of a big file, whole otherwise.
        var viaDelta = Set<ContentDigest>()
        let tracker = ProgressTracker(replica: replica.name, filesTotal: needed.count, bytesTotal: bytesNeeded,
                                      hook: options.progress)
        tracker.begin()
        for (i, item) in needed.enumerated() {
            tracker.beginFile(bytes: item.entry.allocatedBytes)
            if let b = item.base, item.entry.size >= Self.blockPatchThreshold, try sendPatch(item.entry, base: b, client, tracker) {
                viaDelta.insert(item.entry.digest!)
                result.deltasSent += 1
            } else if let b = item.base, item.entry.size >= Self.deltaThreshold, item.entry.size < Self.blockPatchThreshold,
                      try sendDelta(item.entry, base: b, client) {
                viaDelta.insert(item.entry.digest!)
                result.deltasSent += 1
            } else {
                try sendObject(item.entry, resumeAt: Self.resumePoint(item.entry, hello), client, tracker)
                result.filesSent += 1
            }
            tracker.endFile()
            if (i + 1) % 500 == 0 { owner.log("\(replica.name): \(i + 1)/\(needed.count) files staged") }
        }
        let first = try client.flush()
        // A delta that failed (its base changed on the replica) goes again whole.
        let retry = first.failures.filter { viaDelta.contains($0.digest) && $0.code != "noSpace" }
        let retried = Set(retry.map(\.digest))
        var failures = first.failures.filter { !retried.contains($0.digest) }
        for item in needed where retried.contains(item.entry.digest!) {
            try sendObject(item.entry, resumeAt: 0, client)
            result.filesSent += 1
            result.deltasSent -= 1
        }
        if !retry.isEmpty { failures += try client.flush().failures }
        if let failure = failures.first {
            let path = needed.first { $0.entry.digest == failure.digest }?.entry.path ?? "\(failure.digest)"
            throw ReplicaError(.io, path: path, detail: failure.code == "digestMismatch"
                ? "it changed while being sent; the next run picks up its new content"
                : "the replica could not stage it: \(failure.message)")
        }

        let commit = { [self] in
            try client.commit(manifest, treeDigest: treeDigest, base: commitBase, generation: record.generation,
                              lineage: record.lineage, fullRehash: options.fullRehash)
        }
        let reply: CommitReply
        do {
            reply = try commit()
        } catch let e as ProtocolError where e.code == .remote("missingContent") && !result.fetchedManifest {
            // The plan came from our record, but the replica's trees no longer match it (a hand
            // edit): send the content its commit lacks (the digests are the detail), then retry.
            try sendMissing(e.detail, hello, client)
            reply = try commit()
        }
        guard reply.treeDigest == treeDigest else {
            throw ReplicaError(.corruptState, path: "replica \(replica.name)", detail: "committed tree digest \(reply.treeDigest) differs from the master's")
        }
        result.generation = reply.generation
        try state.saveReplicaManifest(manifest, replica.name)
        try recordSuccess(&saved, generation: reply.generation)
    }

    /// Where an upload resumes: the data bytes the replica says arrived in an earlier run.
    /// A claim beyond the file's data is a lie or damage: then it goes whole.
    private static func resumePoint(_ entry: ManifestEntry, _ hello: HelloReply) -> Int64 {
        let claimed = hello.partial[entry.digest!] ?? 0
        return claimed <= entry.allocatedBytes ? claimed : 0
    }

    /// Sends whole the files whose digests a refused commit listed as missing.
    private func sendMissing(_ digestList: String, _ hello: HelloReply, _ client: ReplicaClient) throws {
        let wanted = Set(digestList.split(separator: ",").compactMap { ContentDigest(hex: String($0)) })
        owner.log("\(replica.name): its trees differ from the master's record (edited by hand?); sending \(wanted.count) files they lack")
        var sent = Set<ContentDigest>()
        for entry in manifest.entries where entry.kind == .file {
            guard let digest = entry.digest, wanted.contains(digest), sent.insert(digest).inserted else { continue }
            try sendObject(entry, resumeAt: Self.resumePoint(entry, hello), client)
            result.filesSent += 1
        }
        if let failure = try client.flush().failures.first {
            let path = manifest.entries.first { $0.digest == failure.digest }?.path ?? "\(failure.digest)"
            throw ReplicaError(.io, path: path, detail: "the replica could not stage it: \(failure.message)")
        }
    }

    private func recordSuccess(_ saved: inout ReplicaRecord, generation: UInt64) throws {
        saved.generation = generation
        saved.treeDigest = treeDigest
        saved.lastSuccess = Date().timeIntervalSince1970
    }

    /// Opens a master file for reading (never through a symlink).
    private func open(_ entry: ManifestEntry) throws -> FileDescriptor {
        FileDescriptor(rawValue: try reader.withParent(of: entry.path) { d, name in try TreeSys.openFile(d, name, flags: O_RDONLY) })
    }

    /// Sends a file's data extents whole, compressed, skipping what already arrived.
    private func sendObject(_ entry: ManifestEntry, resumeAt: Int64, _ client: ReplicaClient, _ tracker: ProgressTracker? = nil) throws {
        let fd = try open(entry)
        defer { try? fd.close() }
        // The extents as scanned go on the wire: `[.allHole]` says "no data at all", where an
        // empty list would say "dense" and the replica would wait for data that never comes.
        try client.beginObject(PutObject(digest: entry.digest!, size: entry.size, extents: entry.extents, resumeAt: resumeAt))
        result.resumedBytes += resumeAt
        // A large file's block map is built from the same reads (skipped bytes of a resumed
        // object are read for it, not sent), so the next change to it costs no extra pass.
        let builder = entry.size >= Self.blockPatchThreshold ? BlockMapBuilder(size: entry.size) : nil
        var skip = resumeAt
        // As big as the data, up to 1 MiB: a zero-filled 1 MiB array per small file cost a
        // memset of 100 GiB over 100,000 files.
        var buffer = [UInt8](repeating: 0, count: Int(min(Int64(1 << 20), max(entry.allocatedBytes, 1))))
        var complete = true
        for e in DataExtent.dataRuns(of: entry.extents, size: entry.size) {
            var position = e.offset
            if builder == nil {
                if skip >= e.length { skip -= e.length; continue }
                position += skip
                skip = 0
            }
            while position < e.end {
                let want = Int(min(Int64(buffer.count), e.end - position))
                let n = try buffer.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: position, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
                if n == 0 { complete = false; break }  // shrank since the scan: the replica's digest check refuses it
                try buffer.withUnsafeBytes { raw in
                    let piece = UnsafeRawBufferPointer(rebasing: raw[..<n])
                    try builder?.feed(offset: position, piece)
                    let drop = Int(min(skip, Int64(n)))
                    skip -= Int64(drop)
                    if drop < n { try client.sendData(UnsafeRawBufferPointer(rebasing: piece[drop...])) }
                }
                position += Int64(n)
                tracker?.advance(Int64(n))
            }
        }
        try client.endData()
        if let builder {
            if complete, let map = try? builder.finish(), map.digest == entry.digest { state.saveBlockMap(map) }
        } else if entry.size >= Self.deltaThreshold {
            try cacheSignature(entry, fd)
        }
    }

    /// Sends a large file as a block patch against the replica's version `base`. Returns
    /// false when no block map of the base can be had (then the file goes whole).
    private func sendPatch(_ entry: ManifestEntry, base: ContentDigest, _ client: ReplicaClient, _ tracker: ProgressTracker) throws -> Bool {
        let request = PutDelta(target: entry.digest!, size: entry.size, base: base)
        let key = "patch \(base)>\(entry.digest!)"
        if let cached = owner.cachedDelta(key) {
            // Fan-out: the patch was planned for another replica holding the same base.
            try client.beginPatch(request)
            try client.sendAll(cached)
            try client.endData()
            tracker.advance(entry.allocatedBytes)
            return true
        }
        guard let baseMap = try state.cachedBlockMap(base) ?? client.blockMap(of: base), baseMap.digest == base else { return false }
        let fd = try open(entry)
        defer { try? fd.close() }
        try client.beginPatch(request)
        var kept: [UInt8]? = []
        let summary = try BlockPatchPlanner.plan(fd: fd.rawValue, size: entry.size, extents: entry.extents, base: baseMap,
                                                 context: entry.path) { bytes in
            try client.sendData(bytes)
            if kept != nil {
                if kept!.count + bytes.count > Self.patchCacheLimit { kept = nil } else { kept!.append(contentsOf: bytes) }
            }
        }
        try client.endData()
        tracker.advance(entry.allocatedBytes)
        // A file that changed since the scan gives another digest: the replica refuses that
        // patch, and neither its map nor the patch may be kept.
        if summary.map.digest == entry.digest {
            state.saveBlockMap(summary.map)
            if let kept { owner.cacheDelta(key, kept) }
        }
        return true
    }

    /// Patches up to this size are kept in memory for the other replicas of the run; bigger
    /// ones are planned again per replica (memory stays flat).
    static let patchCacheLimit = 32 << 20

    /// Sends a file as a delta against the replica's version `base`. Returns false when no
    /// signature of the base can be had (then the file goes whole).
    private func sendDelta(_ entry: ManifestEntry, base: ContentDigest, _ client: ReplicaClient) throws -> Bool {
        let key = "\(base)>\(entry.digest!)"
        let fd = try open(entry)
        defer { try? fd.close() }
        var delta = owner.cachedDelta(key)
        if delta == nil {
            let parameters = DeltaParameters.recommended(forFileSize: entry.size)
            guard let sigBytes = try state.cachedSignature(base) ?? client.signature(of: base, parameters: parameters) else { return false }
            let signature = try sigBytes.withUnsafeBytes { try Signature.load($0) }
            var out: [UInt8] = []
            _ = try DeltaFiles.delta(of: fd, against: signature) { out.append(contentsOf: $0) }
            delta = out
            owner.cacheDelta(key, out)
        }
        try client.beginDelta(PutDelta(target: entry.digest!, size: entry.size, base: base))
        try client.sendAll(delta!)
        try client.endData()
        try cacheSignature(entry, fd)
        return true
    }

    /// Keeps the signature of content just sent, so the next change to it needs nothing from
    /// the replica to make a delta.
    private func cacheSignature(_ entry: ManifestEntry, _ fd: FileDescriptor) throws {
        guard state.cachedSignature(entry.digest!) == nil else { return }
        _ = try fd.seek(offset: 0, from: .start)
        var out: [UInt8] = []
        try DeltaFiles.signature(of: fd, parameters: DeltaParameters.recommended(forFileSize: entry.size)) { out.append(contentsOf: $0) }
        state.saveSignature(out, for: entry.digest!)
    }
}

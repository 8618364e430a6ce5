import Foundation
import LoopbackSSHD
import MirrorEngine
import TreeDiff

/// A master root (the bundled fixture) and a replica root on this machine, the replica behind
/// a real sshd on loopback whose authorized_keys holds the forced-command entry that
/// `cloudmin-mirror replica init` wrote; optionally a `TCPProxy` in between.
final class FaultPair {
    let scratch: ScratchDirectory
    let masterRoot: String
    let replicaRoot: String
    let binary: String
    /// The file sshd passes to `replica serve` as `CLOUDMIN_MIRROR_CRASH_AT_FILE`.
    let crashFile: String
    let server: SSHServer
    let proxy: TCPProxy?
    static let replicaName = "dr1"

    /// - Parameters:
    ///   - viaProxy: put a `TCPProxy` between master and sshd (the replica is added through it).
    ///   - prepareReplicaRoot: called on the empty replica root before `replica init` (a mount).
    init(viaProxy: Bool = false, prepareReplicaRoot: ((String) throws -> Void)? = nil) throws {
        binary = try Tools.binary()
        scratch = try ScratchDirectory(prefix: "cm-faults")
        masterRoot = scratch.file("master")
        replicaRoot = scratch.file("replica")
        crashFile = scratch.file("crash-at")
        try Tools.generate(["small", masterRoot])
        let masterKey = try MasterSetup.ensureKey(try MirrorContext(root: masterRoot))
        let pub = scratch.file("master.pub")
        try (masterKey.line + "\n").write(toFile: pub, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: replicaRoot, withIntermediateDirectories: true)
        try prepareReplicaRoot?(replicaRoot)
        let authorizedKeys = scratch.file("authorized_keys")
        let initRun = try ToolProcess(binary, ["replica", "init", "--root", replicaRoot, "--master-key", pub,
                                               "--authorized-keys", authorizedKeys, "--serve-command", binary], in: scratch).finish()
        guard initRun.status == 0 else {
            throw FaultLabError(.setupFailed, context: "cloudmin-mirror replica init", detail: initRun.stderr)
        }
        let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
        server = try SSHServer.start(authorizedKeys: lines, extraConfig: ["SetEnv CLOUDMIN_MIRROR_CRASH_AT_FILE=\(crashFile)"])
        proxy = viaProxy ? try TCPProxy(targetPort: server.port) : nil
        do {
            _ = try MasterSetup.addReplica(try master, ReplicaConfig(name: Self.replicaName, host: "127.0.0.1",
                                                                     port: proxy?.port ?? server.port, user: server.user),
                                           expectedHostKey: server.hostKeyFingerprint) { _ in }
        } catch {
            throw FaultLabError(.setupFailed, context: "master add-replica", detail: "\(error)")
        }
        let first = try sync()
        guard first.ok else { throw FaultLabError(.setupFailed, context: "initial copy", detail: first.error ?? "") }
    }

    deinit {
        proxy?.stop()
        server.stop()
    }

    var master: MirrorContext { get throws { try MirrorContext(root: masterRoot) } }
    var replica: MirrorContext { get throws { try MirrorContext(root: replicaRoot) } }

    /// One mirror run through the engine (SSH, pinned host key), for the replica.
    func sync(_ options: RunOptions = RunOptions()) throws -> ReplicaRunResult {
        var options = options
        if options.waitSeconds == 0 { options.waitSeconds = 60 }
        return try MirrorRun(context: try master).run(options).replicas[0]
    }

    /// Runs the executable against the master root and waits for it.
    func tool(_ arguments: [String]) throws -> ToolRun {
        try ToolProcess(binary, arguments + ["--root", masterRoot], in: scratch).finish()
    }

    /// Starts the executable against the master root.
    func start(_ arguments: [String]) throws -> ToolProcess {
        try ToolProcess(binary, arguments + ["--root", masterRoot], in: scratch)
    }

    /// The master's manifest as a run sends it (exclusions applied).
    func masterManifest() throws -> Manifest {
        let context = try master
        let filter = try context.exclusionFilter().filter
        return try Scanner(root: masterRoot, trees: context.trees, filter: filter).scan().manifest.replicated
    }

    /// What the replica's live trees hold now.
    func replicaManifest() throws -> Manifest {
        try Scanner(root: replicaRoot, trees: try replica.trees).scan().manifest.replicated
    }

    /// The master's generation record.
    func masterGeneration() throws -> UInt64 {
        try MasterState(stateDirectory: try master.stateDirectory).record()?.generation ?? 0
    }

    /// The replica's `replica/objects` folder.
    var objectsDirectory: String { get throws { try replica.stateDirectory + "/replica/objects" } }

    /// Under the replica's run lock (waiting for a `replica serve` still running), finishes or
    /// undoes an interrupted commit as every replica command does first, and reports what the
    /// replica holds.
    func recoverReplica() throws -> (recovery: ReplicaStore.Recovery, record: GenerationRecord) {
        let context = try replica
        let lock = try context.lock(waitSeconds: 120)
        defer { withExtendedLifetime(lock) {} }
        let store = try ReplicaStore(stateDirectory: context.stateDirectory, root: context.paths.rootDirectory, trees: context.trees)
        store.crashPoint = CrashPoint(at: nil, action: .throwError)
        let recovery = try store.recover()
        return (recovery, try store.generation())
    }

    /// Staging temps (`.cm-mirror-*`) anywhere under the replica root (symlinks not followed).
    func temps() throws -> [String] {
        let out = try runTool("/usr/bin/find", [replicaRoot, "-name", ".cm-mirror-*"])
        return out.split(separator: "\n").map(String.init)
    }

    /// Bytes staged in the replica's objects folder (complete and partial, on disk) and the
    /// data bytes partial objects recorded as received.
    func stagedBytes() throws -> (onDisk: Int64, partialReceived: Int64, completeSize: Int64) {
        let dir = try objectsDirectory
        var onDisk: Int64 = 0, partial: Int64 = 0, complete: Int64 = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            var st = stat()
            guard lstat(dir + "/" + name, &st) == 0 else { continue }
            onDisk += Int64(st.st_blocks) * 512
            if name.hasSuffix(".part.progress") {
                let text = (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? ""
                partial += Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            } else if !name.hasSuffix(".part") {
                complete += Int64(st.st_size)
            }
        }
        return (onDisk, partial, complete)
    }

    /// What a trial expects the replica to hold: exactly one of these tree digests.
    enum Held: Equatable { case old, new, neither }

    /// After recovery: which generation the live trees are, and what is wrong (a record that
    /// disagrees with the trees, temps left).
    func wholeness(old: Manifest, new: Manifest) throws -> (held: Held, problems: [String]) {
        let (_, record) = try recoverReplica()
        let live = try replicaManifest()
        var problems: [String] = []
        let held: Held = live.treeDigest == old.treeDigest ? .old : live.treeDigest == new.treeDigest ? .new : .neither
        if held == .neither {
            problems.append("live trees are neither generation: \(Self.difference(live, old).prefix(3)) vs old, \(Self.difference(live, new).prefix(3)) vs new")
        } else if record.treeDigest != live.treeDigest {
            problems.append("replica records tree \(record.treeDigest.map { "\($0)" } ?? "none") (generation \(record.generation)) but holds another")
        }
        let temps = try temps()
        if !temps.isEmpty { problems.append("staging temps left: \(temps.prefix(3))") }
        return (held, problems)
    }

    /// Whether the replica now equals the master and holds the master's generation.
    func convergence() throws -> [String] {
        let masterManifest = try masterManifest()
        let live = try replicaManifest()
        var problems: [String] = []
        if live.treeDigest != masterManifest.treeDigest {
            problems.append("replica differs from master: \(Self.difference(live, masterManifest).prefix(5))")
        }
        let (_, record) = try recoverReplica()
        let generation = try masterGeneration()
        if record.generation != generation { problems.append("replica at generation \(record.generation), master at \(generation)") }
        return problems
    }

    /// Paths whose entries differ between two manifests.
    static func difference(_ a: Manifest, _ b: Manifest) -> [String] {
        var byPath: [String: ManifestEntry] = [:]
        for e in b.entries { byPath[e.path] = e }
        var out: [String] = []
        for e in a.entries {
            if let other = byPath.removeValue(forKey: e.path) {
                if other != e { out.append("~\(e.path)") }
            } else {
                out.append("+\(e.path)")
            }
        }
        out += byPath.keys.sorted().map { "-\($0)" }
        return out
    }

    /// Makes the master's next generation: a Cloudmin churn cycle.
    func churn(seed: Int) throws { try Tools.generate(["churn", masterRoot, "--seed", String(seed)]) }

    /// A folder of the master's config tree for the lab's own files.
    var blobDirectory: String { masterRoot + "/etc/webmin/server-manager" }

    /// Writes `bytes` random bytes to `name` in the master's config tree (removing `previous`).
    func writeBlob(_ name: String, bytes: Int, rng: inout SplitMix64, replacing previous: String? = nil) throws {
        if let previous { try? FileManager.default.removeItem(atPath: blobDirectory + "/" + previous) }
        var data = [UInt8](repeating: 0, count: bytes)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count { words[i] = rng.next() }
        }
        try Data(data).write(to: URL(fileURLWithPath: blobDirectory + "/" + name))
    }
}

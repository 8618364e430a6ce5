import Foundation
import LoopbackSSHD
@testable import MirrorEngine
import TestSupport
import TreeDiff

/// A master root and a replica root on this machine, the replica behind a real OpenSSH sshd
/// on loopback whose authorized_keys holds the forced-command entry `replica init` wrote: the
/// product end to end, as on two hosts.
final class SSHReplicaPair {
    let scratch: ScratchDirectory
    let masterRoot: String
    let replicaRoot: String
    let authorizedKeys: String
    let crashFile: String
    private(set) var server: SSHServer
    let masterKey: PublicKey

    /// - Parameter replicaInit: run `replica init` on the replica root (false leaves it a plain host).
    init(replicaInit: Bool = true) throws {
        scratch = try ScratchDirectory(prefix: "cm-e2e")
        masterRoot = scratch.file("master")
        replicaRoot = scratch.file("replica")
        authorizedKeys = scratch.file("authorized_keys")
        crashFile = scratch.file("crash-at")
        try FileManager.default.createDirectory(atPath: replicaRoot, withIntermediateDirectories: true)
        _ = try Fixtures.materializeSmall(into: URL(fileURLWithPath: masterRoot))
        masterKey = try MasterSetup.ensureKey(try MirrorContext(root: masterRoot))
        let pub = scratch.file("master.pub")
        try (masterKey.line + "\n").write(toFile: pub, atomically: true, encoding: .utf8)
        let binary = try CLIRunner.binary().path
        if replicaInit {
            let r = try CLIRunner.run(["replica", "init", "--root", replicaRoot, "--master-key", pub,
                                       "--authorized-keys", authorizedKeys, "--serve-command", binary])
            guard r.status == 0 else { throw ToolError(tool: "cloudmin-mirror replica init", status: r.status, output: r.stderr) }
        } else {
            // The master's key may log in, but the host is no replica: add-replica must refuse.
            let line = "restrict,command=\"\(binary) replica serve --root \(replicaRoot) --master-fingerprint \(masterKey.fingerprint)\" \(masterKey.line)"
            try (line + "\n").write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
        }
        server = try Self.startServer(authorizedKeys, crashFile)
    }

    static func startServer(_ authorizedKeys: String, _ crashFile: String) throws -> SSHServer {
        let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
        return try SSHServer.start(authorizedKeys: lines, extraConfig: ["SetEnv CLOUDMIN_MIRROR_CRASH_AT_FILE=\(crashFile)"])
    }

    /// Restarts sshd with a new host key (a changed host key, as after a reinstall or an attack).
    func restartWithNewHostKey() throws {
        server.stop()
        server = try Self.startServer(authorizedKeys, crashFile)
    }

    var master: MirrorContext { get throws { try MirrorContext(root: masterRoot) } }

    /// `master add-replica dr1` through the engine.
    @discardableResult
    func addReplica(expectedHostKey: String? = nil) throws -> MirrorContext {
        try MasterSetup.addReplica(try master, ReplicaConfig(name: "dr1", host: "127.0.0.1", port: server.port, user: server.user),
                                   expectedHostKey: expectedHostKey ?? server.hostKeyFingerprint) { _ in }
    }

    func sync(_ options: RunOptions = RunOptions()) throws -> ReplicaRunResult {
        let result = try MirrorRun(context: try master).run(options)
        return result.replicas[0]
    }

    /// Makes the replica's next commit kill itself (SIGKILL) at its n-th crash point.
    func crashNextCommit(at n: Int) throws {
        try "\(n)\n".write(toFile: crashFile, atomically: true, encoding: .utf8)
    }

    func masterManifest() throws -> Manifest {
        let context = try master
        let (filter, _) = try MirrorRun(context: context).filter()
        return try Scanner(root: masterRoot, trees: context.trees, filter: filter).scan().manifest.replicated
    }

    func replicaManifest() throws -> Manifest {
        try Scanner(root: replicaRoot, trees: try master.trees).scan().manifest.replicated
    }
}

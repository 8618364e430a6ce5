import Foundation
import LoopbackSSHD
@testable import MirrorEngine
import TestSupport
import TreeDiff

/// Several hosts on this machine for failover tests: a master root from the fixture and
/// replica roots, each replica behind its own real OpenSSH sshd whose authorized_keys holds the
/// forced-command entry. Any host can later become a master or a replica; `serve()` restarts its
/// sshd with its current authorized_keys (as sshd rereads the file on every login).
final class FailoverHarness {
    /// One host: a root, its authorized_keys, and an sshd while it serves.
    final class Host {
        let name: String
        let root: String
        let authorizedKeys: String
        private(set) var server: SSHServer?

        init(name: String, root: String, authorizedKeys: String) {
            self.name = name
            self.root = root
            self.authorizedKeys = authorizedKeys
        }

        var context: MirrorContext { get throws { try MirrorContext(root: root) } }
        var role: RoleRecord { get throws { try RoleRecord.load(stateDirectory: try context.stateDirectory) } }

        /// (Re)starts its sshd with the lines now in its authorized_keys.
        func serve() throws {
            stop()
            let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
            server = try SSHServer.start(authorizedKeys: lines)
        }

        func stop() {
            server?.stop()
            server = nil
        }
    }

    let scratch: ScratchDirectory
    let binary: String
    let master: Host
    let replicas: [Host]
    /// A loopback address where nothing listens: the dead old master's recorded address.
    let deadMasterAddress: String

    /// - Parameter replicaNames: replicas made with `replica init` of the master's key, serving.
    init(replicaNames: [String]) throws {
        scratch = try ScratchDirectory(prefix: "cm-failover")
        binary = try CLIRunner.binary().path
        deadMasterAddress = "127.0.0.1:\(try SSHServer.freePort())"
        master = Host(name: "m", root: scratch.file("m"), authorizedKeys: scratch.file("m.authorized_keys"))
        _ = try Fixtures.materializeSmall(into: URL(fileURLWithPath: master.root))
        let key = try MasterSetup.ensureKey(try master.context)
        var made: [Host] = []
        for name in replicaNames {
            let host = Host(name: name, root: scratch.file(name), authorizedKeys: scratch.file("\(name).authorized_keys"))
            try FileManager.default.createDirectory(atPath: host.root, withIntermediateDirectories: true)
            _ = try ReplicaSetup.initialize(context: try host.context, key: key, authorizedKeys: AuthorizedKeys(path: host.authorizedKeys),
                                            executable: binary, root: host.root, config: nil, force: false,
                                            masterHost: deadMasterAddress)
            try host.serve()
            made.append(host)
        }
        replicas = made
    }

    deinit {
        master.stop()
        for r in replicas { r.stop() }
    }

    func replica(_ name: String) -> Host { replicas.first { $0.name == name }! }

    /// Writes `host`'s master key (created when missing) to a .pub file, as `master key > FILE` does.
    func keyFile(of host: Host) throws -> String {
        let key = try MasterSetup.ensureKey(try host.context)
        let path = scratch.file("\(host.name)-master.pub")
        try (key.line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `master add-replica NAME` on `master` for `replica` (pinning its sshd's host key), then
    /// the initial copy as the CLI makes it: one run for that replica only.
    func addReplica(on master: Host, _ replica: Host) throws -> ReplicaRunResult {
        let server = try unwrap(replica.server)
        let updated = try MasterSetup.addReplica(try master.context, ReplicaConfig(name: replica.name, host: "127.0.0.1", port: server.port, user: server.user),
                                                 expectedHostKey: server.hostKeyFingerprint) { _ in }
        var options = RunOptions()
        options.replicas = [replica.name]
        return try MirrorRun(context: updated).run(options).replicas[0]
    }

    /// What `host` would send as a master (its trees, built-in rules applied).
    func masterManifest(_ host: Host) throws -> Manifest {
        let context = try host.context
        let (filter, _) = try MirrorRun(context: context).filter()
        return try Scanner(root: host.root, trees: context.trees, filter: filter).scan().manifest.replicated
    }

    /// What `host`'s trees hold, nothing left out.
    func treeManifest(_ host: Host) throws -> Manifest {
        try Scanner(root: host.root, trees: try host.context.trees).scan().manifest.replicated
    }

    /// Content digests of non-empty files in a manifest.
    static func digests(_ manifest: Manifest) -> Set<ContentDigest> {
        Set(manifest.entries.filter { $0.kind == .file && $0.size > 0 }.compactMap(\.digest))
    }
}

/// Throws when nil (outside a test function, where `#require` cannot be used).
private struct Missing: Error {}

private func unwrap<T>(_ value: T?) throws -> T {
    guard let value else { throw Missing() }
    return value
}

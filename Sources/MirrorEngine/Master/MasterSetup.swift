import Foundation
import LoopbackSSHD
import SSHTransport

/// Setting a host up as a master: its replication key, and adding or removing replicas.
public enum MasterSetup {
    /// The master's replication key: created (ed25519, no passphrase) when missing.
    /// - Returns: the public key.
    public static func ensureKey(_ context: MirrorContext) throws -> PublicKey {
        let path = context.paths.host(context.config.identity)
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = try runTool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cloudmin-mirror-master", "-f", path])
        }
        return try PublicKey(file: path + ".pub")
    }

    /// Why a replica was not added.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public enum Code: Sendable { case isReplica, notAReplica, otherMaster, duplicate }
        public var code: Code
        public var detail: String
        public var description: String { detail }
    }

    /// Connects to a new replica, pins its host key, checks it is a replica that accepts this
    /// master, and saves it to the configuration. Nothing is written on the replica.
    /// - Parameters:
    ///   - replica: name, host, port, user, identity.
    ///   - expectedHostKey: the fingerprint the sysadmin read on the replica; nil pins what is
    ///     seen (shown through `log`).
    /// - Returns: the configuration with the replica added.
    /// - Throws: `Refusal`, `SSHError` (`.hostKeyMismatch` when the pinned key differs),
    ///   `ProtocolError`, `ConfigError`.
    public static func addReplica(_ context: MirrorContext, _ replica: ReplicaConfig, expectedHostKey: String?,
                                  log: (String) -> Void) throws -> MirrorContext {
        let role = try RoleRecord.load(stateDirectory: context.stateDirectory)
        if role.role == .replica {
            throw Refusal(code: .isReplica, detail: "this host is a replica of master \(role.masterFingerprint ?? "?"); promote it before adding replicas")
        }
        try MasterDisable.refuseIfDisabled(role, stateDirectory: context.stateDirectory)
        if context.config.replica(named: replica.name) != nil {
            throw Refusal(code: .duplicate, detail: "a replica named \(replica.name) is already configured; remove it first or pick another name")
        }
        let key = try ensureKey(context)
        let knownHosts = context.paths.host(context.config.knownHosts)
        try FileManager.default.createDirectory(atPath: (knownHosts as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let (session, channel) = try ReplicaSync.connect(replica, context: context,
                                                         policy: .pinIfUnknown(knownHostsPath: knownHosts, expectedFingerprint: expectedHostKey))
        defer { try? session.close() }
        log("replica \(replica.name): host key \(session.serverHostKey.type) \(session.serverHostKey.fingerprint) pinned in \(context.config.knownHosts)")
        let client = try ReplicaClient(stream: ExecStream(channel), peer: "replica \(replica.name)", compressionLevel: 1)
        defer { client.bye() }
        let hello: HelloReply
        do { hello = try client.hello(fingerprint: key.fingerprint, lineage: role.lineage ?? "") } catch let e as ProtocolError {
            switch e.code {
            case .remote("wrongRole"): throw Refusal(code: .notAReplica, detail: "\(replica.host) is not a replica (\(e.detail)); run `cloudmin-mirror replica init --master-key KEY.pub` there first")
            case .remote("wrongMaster"): throw Refusal(code: .otherMaster, detail: "\(replica.host) is a replica of another master (\(e.detail)); run `cloudmin-mirror replica set-master` there if this master should take it over")
            case .closed:
                // `replica serve` refuses on stderr and hangs up: not a replica, or another master's.
                throw Refusal(code: .notAReplica, detail: "\(replica.host) refused replication (\(e.detail)); nothing was written there")
            default: throw e
            }
        }
        log("replica \(replica.name): role \(hello.role), generation \(hello.generation), \(hello.freeBytes / (1 << 20)) MiB free")
        if role.role != .master {
            try context.ensureStateDirectory()
            try RoleRecord(role: .master, lineage: UUID().uuidString).save(stateDirectory: context.stateDirectory)
        }
        var file = context.configFile
        var saved = replica
        saved.hostKey = session.serverHostKey.fingerprint
        try file.addReplica(saved)
        try FileManager.default.createDirectory(atPath: (file.hostPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try file.save()
        return try MirrorContext(root: context.paths.rootDirectory, configPath: context.configFile.path == MirrorConfig.defaultPath ? nil : context.configFile.path)
    }

    /// Forgets a replica: its configuration section and the master's records of it. The
    /// replica itself is left as it is.
    public static func removeReplica(_ context: MirrorContext, name: String) throws {
        var file = context.configFile
        try file.removeReplica(named: name)
        try file.save()
        if let state = try? MasterState(stateDirectory: context.stateDirectory) { state.removeReplica(name) }
    }
}

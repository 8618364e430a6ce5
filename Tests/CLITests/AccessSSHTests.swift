import Foundation
import Testing
import TestSupport

/// The master's key on a replica set up by `replica init`, tried through a real sshd with
/// OpenSSH's own clients: it can replicate and do nothing else.
@Suite struct AccessSSHTests {
    /// A replica under a root whose path needs quoting, with sshd reading the authorized_keys
    /// file that `replica init` wrote.
    struct Replica {
        let dir: ScratchDirectory
        let root: String
        let master: TestKey
        let stranger: TestKey
        let server: SSHServer
        let knownHosts: String
        var authorizedKeys: String { server.directory.file("authorized_keys") }
        var stateDirectory: String { root + "/var/lib/cloudmin-mirror" }

        init(sftpServer: String = "internal-sftp") throws {
            dir = try ScratchDirectory(prefix: "cm-access")
            root = dir.path + "/replica root's"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            master = try TestKeys.generate(.ed25519, in: dir.path, name: "master")
            stranger = try TestKeys.generate(.ed25519, in: dir.path, name: "stranger")
            server = try SSHServer.start(authorizedKeys: [], sftpServer: sftpServer)
            knownHosts = try server.writeKnownHosts()
            let initRun = try Access.tool(["replica", "init", "--root", root, "--master-key", master.privateKeyPath + ".pub",
                                           "--authorized-keys", server.directory.file("authorized_keys")])
            guard initRun.status == 0 else { throw SetupFailed(output: initRun.stdout + initRun.stderr) }
        }

        func ssh(_ command: [String], key: TestKey? = nil, extra: [String] = []) throws -> Finished {
            try Access.ssh(server, key: key ?? master, knownHosts: knownHosts, extra: extra, command: command)
        }
    }

    @Test func shellsAndCommandsAreRefused() throws {
        let replica = try Replica()
        let plain = try replica.ssh([])
        #expect(plain.status != 0 && !plain.timedOut)
        let tty = try replica.ssh([], extra: ["-tt"])
        #expect(tty.status != 0 && !tty.timedOut)
        let marker = replica.dir.file("touched")
        let touch = try replica.ssh(["touch", marker])
        #expect(touch.status != 0)
        #expect(!FileManager.default.fileExists(atPath: marker))
        let ls = try replica.ssh(["ls", "/"])
        #expect(ls.status != 0)
        #expect(ls.stdout.isEmpty)
        // The protocol command with a shell tail is not the protocol command.
        let smuggled = try replica.ssh(["cloudmin-mirror-rpc;", "touch", marker])
        #expect(smuggled.status != 0)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func portForwardingIsRefused() throws {
        let replica = try Replica()
        // -W opens a direct-tcpip channel, as -L does for each connection: to sshd's own port,
        // whose banner would come back if forwarding were allowed.
        let stdio = try replica.ssh([], extra: ["-W", "127.0.0.1:\(replica.server.port)"])
        #expect(stdio.status != 0 && !stdio.timedOut)
        #expect(!stdio.stdout.contains("SSH-2.0"))
        let remote = try replica.ssh([], extra: ["-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:\(replica.server.port)"])
        #expect(remote.status != 0 && !remote.timedOut)
    }

    @Test(arguments: ["internal-sftp", ServeDispatchPaths.sftpServer])
    func sftpIsReadOnly(subsystem: String) throws {
        let replica = try Replica(sftpServer: subsystem)
        let list = try Access.sftp(replica.server, key: replica.master, knownHosts: replica.knownHosts, batch: ["ls"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("role.json"))

        let local = replica.dir.file("upload")
        try "data".write(toFile: local, atomically: true, encoding: .utf8)
        let put = try Access.sftp(replica.server, key: replica.master, knownHosts: replica.knownHosts, batch: ["put \(local) uploaded"])
        #expect(put.status != 0)
        #expect(!FileManager.default.fileExists(atPath: replica.stateDirectory + "/uploaded"))
        let mkdir = try Access.sftp(replica.server, key: replica.master, knownHosts: replica.knownHosts, batch: ["mkdir made"])
        #expect(mkdir.status != 0)
        #expect(!FileManager.default.fileExists(atPath: replica.stateDirectory + "/made"))
        let rm = try Access.sftp(replica.server, key: replica.master, knownHosts: replica.knownHosts, batch: ["rm role.json"])
        #expect(rm.status != 0)
        #expect(FileManager.default.fileExists(atPath: replica.stateDirectory + "/role.json"))
    }

    @Test func theProtocolCommandReachesTheServer() throws {
        let replica = try Replica()
        let rpc = try replica.ssh(["cloudmin-mirror-rpc"])
        #expect(!rpc.timedOut)
        #expect(!rpc.stdout.isEmpty || rpc.status == 0)
    }

    @Test func aKeyThatIsNotInstalledIsRefusedBySshd() throws {
        let replica = try Replica()
        let rpc = try replica.ssh(["cloudmin-mirror-rpc"], key: replica.stranger)
        #expect(rpc.status == 255)
        #expect(rpc.stdout.isEmpty)
    }

    @Test func anInstalledKeyNamingAnotherMasterIsRefusedBeforeServing() throws {
        let replica = try Replica()
        let entry = try #require(Access.markedLines(replica.authorizedKeys).first)
        let master = try TestKeys.fingerprint(ofPublicKeyFile: replica.master.privateKeyPath + ".pub")
        #expect(entry.contains(master))
        let forged = entry.replacingOccurrences(of: master, with: replica.stranger.fingerprint)
        try (forged + "\n").write(toFile: replica.authorizedKeys, atomically: true, encoding: .utf8)
        let rpc = try replica.ssh(["cloudmin-mirror-rpc"])
        #expect(rpc.status == 1)
        #expect(rpc.stdout.isEmpty)
    }

    @Test func setMasterSwitchesWhichKeyGetsIn() throws {
        let replica = try Replica()
        let newMaster = try TestKeys.generate(.ecdsa, in: replica.dir.path, name: "new-master")
        let change = try Access.tool(["replica", "set-master", "--root", replica.root, "--master-key", newMaster.privateKeyPath + ".pub",
                                      "--authorized-keys", replica.authorizedKeys])
        #expect(change.status == 0)
        #expect(Access.markedLines(replica.authorizedKeys).count == 1)
        let old = try replica.ssh(["cloudmin-mirror-rpc"])
        #expect(old.status == 255)
        #expect(old.stdout.isEmpty)
        let new = try replica.ssh(["cloudmin-mirror-rpc"], key: newMaster)
        #expect(!new.timedOut)
        #expect(!new.stdout.isEmpty || new.status == 0)
    }
}

struct SetupFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { "replica init failed: \(output)" }
}

enum ServeDispatchPaths {
    static let sftpServer = "/usr/lib/openssh/sftp-server"
}

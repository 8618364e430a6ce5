import Foundation
import SSHTransport
import TestSupport

/// One sshd with one authorized client key and a known_hosts file pinning its host key.
final class Fixture: Sendable {
    let scratch: ScratchDirectory
    let key: TestKey
    let server: SSHServer
    let knownHosts: String

    init(keyType: TestKeyType = .ed25519, hostKeyType: SSHServer.HostKeyType = .ed25519, ipv6: Bool = false,
         sftpServer: String = "internal-sftp") throws {
        scratch = try ScratchDirectory(prefix: "cm-ssh-test")
        key = try TestKeys.generate(keyType, in: scratch.path)
        server = try SSHServer.start(authorizedKeys: [key.publicKeyLine], hostKeyType: hostKeyType, ipv6: ipv6,
                                     sftpServer: sftpServer)
        knownHosts = try server.writeKnownHosts()
    }

    func connect(host: String = "127.0.0.1", policy: HostKeyPolicy? = nil, identity: SSHIdentity? = nil,
                 options: SSHSessionOptions = .init()) throws -> SSHSession {
        try SSHSession.connect(host: host, port: server.port, user: server.user,
                               identity: identity ?? .keyFile(path: key.privateKeyPath),
                               hostKeyPolicy: policy ?? .requireKnown(knownHostsPath: knownHosts), options: options)
    }

    /// Waits (bounded) until sshd logged the end of a connection, so log assertions see it all.
    func waitForConnectionEnd(count: Int = 1) {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let log = server.log()
            let ends = log.components(separatedBy: "Connection closed by").count - 1
                + log.components(separatedBy: "Disconnected from").count - 1
                + log.components(separatedBy: "Connection reset by").count - 1
            if ends >= count { return }
            usleep(50_000)
        }
    }
}

/// Runs `body` and returns the `SSHError` code it threw (nil if it did not throw an SSHError).
func sshErrorCode(_ body: () throws -> Void) -> SSHError.Code? {
    do { try body() } catch let error as SSHError { return error.code } catch { return nil }
    return nil
}

func sshError(_ body: () throws -> Void) -> SSHError? {
    do { try body() } catch let error as SSHError { return error } catch { return nil }
    return nil
}

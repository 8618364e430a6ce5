import Foundation
import SSHTransport
import Testing
import TestSupport

@Suite("SSH host keys")
struct HostKeyTests {
    @Test("a pinned ed25519 host key is accepted and its fingerprint matches ssh-keygen's")
    func pinnedKeyAccepted() throws {
        let f = try Fixture()
        let session = try f.connect()
        #expect(session.serverHostKey.fingerprint == f.server.hostKeyFingerprint)
        #expect(session.serverHostKey.type == "ssh-ed25519")
        try session.close()
    }

    @Test("an ECDSA host key is accepted too")
    func ecdsaHostKey() throws {
        let f = try Fixture(hostKeyType: .ecdsa)
        let session = try f.connect()
        #expect(session.serverHostKey.type == "ecdsa-sha2-nistp256")
        #expect(session.serverHostKey.fingerprint == f.server.hostKeyFingerprint)
    }

    @Test("hashed known_hosts entries (ssh-keygen -H) match")
    func hashedEntry() throws {
        let f = try Fixture()
        try runTool("/usr/bin/ssh-keygen", ["-q", "-H", "-f", f.knownHosts])
        let text = try String(contentsOfFile: f.knownHosts, encoding: .utf8)
        #expect(text.hasPrefix("|1|"))
        _ = try f.connect()
    }

    @Test("a changed host key is refused with both fingerprints and no authentication attempt")
    func mismatchRefused() throws {
        let f = try Fixture()
        let other = try TestKeys.generate(.ed25519, in: f.scratch.path, name: "other_host_key")
        let fields = other.publicKeyLine.split(separator: " ")
        let knownHosts = try f.server.writeKnownHosts(lines: ["[127.0.0.1]:\(f.server.port) \(fields[0]) \(fields[1])"])
        let error = try #require(sshError { _ = try f.connect(policy: .requireKnown(knownHostsPath: knownHosts)) })
        #expect(error.code == .hostKeyMismatch)
        #expect(error.serverFingerprint == f.server.hostKeyFingerprint)
        #expect(error.expectedFingerprint == other.fingerprint)
        f.waitForConnectionEnd()
        let log = f.server.log()
        #expect(!log.contains("publickey"), "the client must not try to authenticate: \(log)")
        #expect(!log.contains("Accepted"))
        // Pinning does not override a mismatch either.
        #expect(sshErrorCode { _ = try f.connect(policy: .pinIfUnknown(knownHostsPath: knownHosts, expectedFingerprint: nil)) } == .hostKeyMismatch)
    }

    @Test("a successful login shows up in sshd's log (control for the mismatch test)")
    func loginIsLogged() throws {
        let f = try Fixture()
        let session = try f.connect()
        try session.close()
        f.waitForConnectionEnd()
        #expect(f.server.log().contains("Accepted publickey"))
    }

    @Test("an unknown host is refused under requireKnown, with the fingerprint to show")
    func unknownRefused() throws {
        let f = try Fixture()
        let empty = f.scratch.file("empty_known_hosts")
        let error = try #require(sshError { _ = try f.connect(policy: .requireKnown(knownHostsPath: empty)) })
        #expect(error.code == .hostKeyUnknown)
        #expect(error.serverFingerprint == f.server.hostKeyFingerprint)
        #expect(!FileManager.default.fileExists(atPath: empty))
    }

    @Test("a key pinned for port 22 does not vouch for another port")
    func portIsChecked() throws {
        let f = try Fixture()
        let fields = f.server.hostPublicKey.split(separator: " ")
        let knownHosts = try f.server.writeKnownHosts(lines: ["127.0.0.1 \(fields[0]) \(fields[1])"])
        #expect(sshErrorCode { _ = try f.connect(policy: .requireKnown(knownHostsPath: knownHosts)) } == .hostKeyUnknown)
    }

    @Test("pinIfUnknown records the key with the expected fingerprint, then requireKnown accepts it")
    func pinning() throws {
        let f = try Fixture()
        let path = f.scratch.file("new/known_hosts")
        let session = try f.connect(policy: .pinIfUnknown(knownHostsPath: path, expectedFingerprint: f.server.hostKeyFingerprint))
        try session.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == f.server.knownHostsLine + "\n")
        _ = try f.connect(policy: .requireKnown(knownHostsPath: path))
        // ssh-keygen agrees the recorded line is well-formed and names this host and port.
        let found = try runTool("/usr/bin/ssh-keygen", ["-F", "[127.0.0.1]:\(f.server.port)", "-f", path])
        #expect(found.contains(f.server.hostPublicKey.split(separator: " ")[1]))
    }

    @Test("pinIfUnknown with a different expected fingerprint records nothing")
    func pinningWrongFingerprint() throws {
        let f = try Fixture()
        let path = f.scratch.file("known_hosts_pin")
        let other = try TestKeys.generate(.ed25519, in: f.scratch.path, name: "other")
        let error = try #require(sshError {
            _ = try f.connect(policy: .pinIfUnknown(knownHostsPath: path, expectedFingerprint: other.fingerprint))
        })
        #expect(error.code == .hostKeyMismatch)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("when only the server's ECDSA key is pinned, the handshake asks for ECDSA, not ed25519")
    func pinnedTypePreferred() throws {
        let scratch = try ScratchDirectory()
        let client = try TestKeys.generate(.ed25519, in: scratch.path)
        let ecdsaHost = try TestKeys.generate(.ecdsa, in: scratch.path, name: "host_ecdsa")
        let server = try SSHServer.start(authorizedKeys: [client.publicKeyLine], extraConfig: ["HostKey \(ecdsaHost.privateKeyPath)"])
        let fields = ecdsaHost.publicKeyLine.split(separator: " ")
        let knownHosts = try server.writeKnownHosts(lines: ["[127.0.0.1]:\(server.port) \(fields[0]) \(fields[1])"])
        let session = try SSHSession.connect(host: "127.0.0.1", port: server.port, user: server.user,
                                             identity: .keyFile(path: client.privateKeyPath),
                                             hostKeyPolicy: .requireKnown(knownHostsPath: knownHosts))
        #expect(session.serverHostKey.type == "ecdsa-sha2-nistp256")
        #expect(session.serverHostKey.fingerprint == ecdsaHost.fingerprint)
    }
}

import Foundation
import SSHTransport
import Testing
import TestSupport

@Suite("SSH connect and auth")
struct ConnectAuthTests {
    @Test("ed25519 and ECDSA client keys log in", arguments: [TestKeyType.ed25519, .ecdsa])
    func keyTypes(type: TestKeyType) throws {
        let f = try Fixture(keyType: type)
        let session = try f.connect()
        let algorithms = session.negotiatedAlgorithms
        #expect(algorithms.cipherClientToServer.hasSuffix("-ctr"))
        #expect(try session.run("echo ok").stdout == Array("ok\n".utf8))
        try session.close()
        #expect(!session.isUsable)
    }

    @Test("a key the server does not know is refused")
    func wrongKey() throws {
        let f = try Fixture()
        let stranger = try TestKeys.generate(.ed25519, in: f.scratch.path, name: "stranger")
        #expect(sshErrorCode { _ = try f.connect(identity: .keyFile(path: stranger.privateKeyPath)) } == .authFailed)
    }

    @Test("an RSA key is rejected up front with unsupportedKeyType")
    func rsaKey() throws {
        let f = try Fixture()
        let rsa = try TestKeys.generate(.rsa, in: f.scratch.path, name: "rsa")
        #expect(sshErrorCode { _ = try f.connect(identity: .keyFile(path: rsa.privateKeyPath)) } == .unsupportedKeyType)
        // Checked before any connection: even with nothing listening the key type is the error.
        let port = try SSHServer.freePort()
        let code = sshErrorCode {
            _ = try SSHSession.connect(host: "127.0.0.1", port: port, user: "root", identity: .keyFile(path: rsa.privateKeyPath),
                                       hostKeyPolicy: .requireKnown(knownHostsPath: f.knownHosts))
        }
        #expect(code == .unsupportedKeyType)
    }

    @Test("a missing identity file is reported as such")
    func missingIdentity() throws {
        let f = try Fixture()
        #expect(sshErrorCode { _ = try f.connect(identity: .keyFile(path: f.scratch.file("nope"))) } == .identityUnreadable)
    }

    @Test("ssh-agent without an agent socket fails as authFailed")
    func agentMissing() throws {
        let f = try Fixture()
        guard ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] == nil else { return }
        #expect(sshErrorCode { _ = try f.connect(identity: .agent) } == .authFailed)
    }

    @Test("nothing listening gives connectionRefused")
    func refused() throws {
        let port = try SSHServer.freePort()
        let scratch = try ScratchDirectory()
        let key = try TestKeys.generate(.ed25519, in: scratch.path)
        let code = sshErrorCode {
            _ = try SSHSession.connect(host: "127.0.0.1", port: port, user: "root", identity: .keyFile(path: key.privateKeyPath),
                                       hostKeyPolicy: .requireKnown(knownHostsPath: scratch.file("kh")))
        }
        #expect(code == .connectionRefused)
    }

    @Test("an unresolvable name gives resolveFailed")
    func unresolvable() throws {
        let scratch = try ScratchDirectory()
        let key = try TestKeys.generate(.ed25519, in: scratch.path)
        let code = sshErrorCode {
            _ = try SSHSession.connect(host: "no-such-host.invalid", port: 22, user: "root", identity: .keyFile(path: key.privateKeyPath),
                                       hostKeyPolicy: .requireKnown(knownHostsPath: scratch.file("kh")))
        }
        #expect(code == .resolveFailed)
    }

    @Test("IPv6 loopback works with a [::1]:port known_hosts entry")
    func ipv6() throws {
        let f = try Fixture(ipv6: true)
        let knownHosts = try f.server.writeKnownHosts(lines: [f.server.knownHostsLine(host: "::1")])
        let session = try f.connect(host: "::1", policy: .requireKnown(knownHostsPath: knownHosts))
        #expect(try session.run("true").status == 0)
    }

    @Test("a server that stops answering (SIGSTOP) gives a timeout, and the session is then unusable")
    func stoppedServerTimesOut() throws {
        let f = try Fixture()
        var options = SSHSessionOptions()
        options.readTimeout = .seconds(2)
        let session = try f.connect(options: options)
        let sftp = try SFTPClient(session: session)
        f.server.pause()
        defer { f.server.resume() }
        #expect(sshErrorCode { _ = try sftp.stat("/") } == .timeout)
        #expect(!session.isUsable)
        #expect(sshErrorCode { _ = try sftp.stat("/") } == .disconnected)
    }

    @Test("cancelling the task stops a wait on a silent server with .cancelled, long before the read timeout")
    func cancellation() async throws {
        let f = try Fixture()
        defer { f.server.resume() }
        let task = Task.detached { () -> SSHError.Code? in
            var options = SSHSessionOptions()
            options.readTimeout = .seconds(600)
            return sshErrorCode {
                let session = try f.connect(options: options)
                let sftp = try SFTPClient(session: session)
                f.server.pause()
                _ = try sftp.stat("/")
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        #expect(await task.value == .cancelled)
    }
}

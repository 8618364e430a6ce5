import Foundation
import Testing
import TestSupport

/// `ssh -L` with the replication key, through the real sshd: the local end listens (that is
/// the client's side), but every connection through it is refused by the replica's sshd, so
/// nothing of the replica's network is reachable. (`-W` and `-R` are in `AccessSSHTests`.)
@Suite struct AccessForwardingTests {
    /// A free loopback port: bound, read back, released.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Connects to 127.0.0.1:`port`; nil while nothing listens there.
    static func connect(_ port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if ok { return fd }
        close(fd)
        return nil
    }

    /// Everything the forwarded connection yields before it closes (or 10 s of silence).
    static func drain(_ fd: Int32) -> [UInt8] {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out += buffer[..<n]
        }
    }

    @Test func localForwardingReachesNothing() throws {
        let replica = try AccessSSHTests.Replica()
        let port = try Self.freePort()
        let stderr = replica.dir.file("ssh-L.err")
        // The forward's target is the replica's own sshd: its banner would come back if
        // forwarding were allowed.
        let ssh = try ChildProcess.spawn("/usr/bin/ssh", Access.clientOptions(replica.server, key: replica.master, knownHosts: replica.knownHosts)
            + ["-N", "-L", "127.0.0.1:\(port):127.0.0.1:\(replica.server.port)",
               "-p", String(replica.server.port), "\(replica.server.user)@127.0.0.1"], stderrPath: stderr)
        defer {
            kill(ssh.pid, SIGKILL)
            _ = ssh.wait()
        }
        // Wait (a hang guard, not a timing assertion) until the client listens.
        var fd: Int32?
        for _ in 0..<300 where fd == nil && ssh.isRunning {
            fd = Self.connect(port)
            if fd == nil { usleep(50_000) }
        }
        // The login itself is allowed (the key is known), so the client listens locally.
        let socket = try #require(fd, "ssh -L never listened")
        defer { close(socket) }
        let got = Self.drain(socket)
        #expect(!String(decoding: got, as: UTF8.self).contains("SSH-2.0"), "a connection was forwarded through the replica")
        #expect(got.isEmpty)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A loopback TCP proxy to a local port that can cut a connection, as a pulled cable would:
/// after the armed number of client-to-server bytes it shuts down and closes both sides.
///
/// `@unchecked Sendable`: the listening socket and target port are immutable; the armed cut,
/// the byte counters and the open sockets are only touched under `lock`.
final class TCPProxy: @unchecked Sendable {
    /// The port the proxy listens on (127.0.0.1).
    let port: Int
    let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var armedCut: Int?
    private var lastForwarded: Int = 0
    private var lastWasCut = false
    private var open: Set<Int32> = []
    private var stopped = false

    /// Listens on a free loopback port; each accepted connection is forwarded to `targetPort`.
    init(targetPort: Int) throws {
        self.targetPort = targetPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = Self.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(listener, sa, len) == 0 && getsockname(listener, sa, &len) == 0 && listen(listener, 16) == 0
            }
        }
        guard ok else {
            let code = errno
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EADDRINUSE)
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The next connection is cut after `bytes` client-to-server bytes (nil: forward all).
    func armCut(after bytes: Int?) { lock.withLock { armedCut = bytes } }

    /// Client-to-server bytes forwarded on the last connection that ended, and whether it was
    /// cut. Waits (up to 10 s) until no connection is open: the pumps notice a close a moment
    /// after the master's run has returned, and reading before that reports the connection
    /// before it.
    var lastConnection: (forwarded: Int, cut: Bool) {
        for _ in 0..<1000 {
            if lock.withLock({ open.isEmpty }) { break }
            usleep(10_000)
        }
        return lock.withLock { (lastForwarded, lastWasCut) }
    }

    /// Stops accepting and closes every open connection.
    func stop() {
        let sockets: Set<Int32> = lock.withLock {
            guard !stopped else { return [] }
            stopped = true
            return open
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return addr
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Self.loopback(port: targetPort)
            let rc = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { close(server); close(client); continue }
            let connection = Connection(client: client, server: server, cutAfter: lock.withLock {
                defer { armedCut = nil }
                open.formUnion([client, server])
                return armedCut
            })
            Thread.detachNewThread { [self] in
                connection.pump(from: client, to: server, counted: true)
                connection.finish(self)
            }
            Thread.detachNewThread { [self] in
                connection.pump(from: server, to: client, counted: false)
                connection.finish(self)
            }
        }
    }

    fileprivate func ended(_ c: Connection, forwarded: Int, cut: Bool) {
        lock.withLock {
            open.subtract([c.client, c.server])
            lastForwarded = forwarded
            lastWasCut = cut
        }
    }

    /// One proxied connection: two pumps, closed when both have ended.
    ///
    /// `@unchecked Sendable`: the counters are touched only under `lock`.
    fileprivate final class Connection: @unchecked Sendable {
        let client: Int32
        let server: Int32
        private let lock = NSLock()
        private var budget: Int?
        private var forwarded = 0
        private var wasCut = false
        private var ended = 0

        init(client: Int32, server: Int32, cutAfter: Int?) {
            self.client = client
            self.server = server
            budget = cutAfter
        }

        func pump(from: Int32, to: Int32, counted: Bool) {
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                var allowed = n
                var cutNow = false
                if counted {
                    lock.withLock {
                        if let b = budget {
                            allowed = min(n, max(0, b - forwarded))
                            cutNow = allowed < n || forwarded + allowed >= b
                        }
                        forwarded += allowed
                    }
                }
                if allowed > 0 && !Self.writeAll(to, buffer, allowed) { break }
                if cutNow {
                    lock.withLock { wasCut = true }
                    break
                }
            }
            // A cut or an end on one side ends both directions.
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(server, Int32(SHUT_RDWR))
        }

        func finish(_ proxy: TCPProxy) {
            let last: Bool = lock.withLock { ended += 1; return ended == 2 }
            guard last else { return }
            let (n, cut) = lock.withLock { (forwarded, wasCut) }
            proxy.ended(self, forwarded: n, cut: cut)
            close(client)
            close(server)
        }

        private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
            var done = 0
            while done < count {
                let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + done, count - done, Int32(MSG_NOSIGNAL)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
    }
}

import Foundation
import Testing
@testable import FaultLab

/// The proxy forwards everything until armed, then cuts after exactly the armed byte count.
@Suite struct TCPProxyTests {
    /// A loopback listener that counts the bytes of each connection until it closes.
    final class Sink: @unchecked Sendable {
        // @unchecked: `received` is touched only under `lock`.
        let port: Int
        private let fd: Int32
        private let lock = NSLock()
        private var received: [Int] = []

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let listening = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0 && listen(fd, 4) == 0
                }
            }
            guard listening else { close(fd); throw POSIXError(.EADDRINUSE) }
            port = Int(UInt16(bigEndian: addr.sin_port))
            Thread.detachNewThread { [self] in
                while true {
                    let c = accept(fd, nil, nil)
                    guard c >= 0 else { return }
                    var total = 0
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let n = buffer.withUnsafeMutableBytes { read(c, $0.baseAddress, $0.count) }
                        if n <= 0 { break }
                        total += n
                    }
                    close(c)
                    lock.withLock { received.append(total) }
                }
            }
        }

        var counts: [Int] { lock.withLock { received } }

        func stop() {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    /// Connects to the proxy, writes `bytes` (stopping at the first failed write), closes.
    static func push(_ bytes: Int, to port: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { return -1 }
        let chunk = [UInt8](repeating: 7, count: 1000)
        var sent = 0
        while sent < bytes {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min(chunk.count, bytes - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
            usleep(1000)
        }
        return sent
    }

    static func waitForCounts(_ sink: Sink, _ n: Int) -> [Int] {
        for _ in 0..<500 where sink.counts.count < n { usleep(10_000) }
        return sink.counts
    }

    @Test func cutsTheArmedConnectionAfterExactlyItsBudget() throws {
        let sink = try Sink()
        defer { sink.stop() }
        let proxy = try TCPProxy(targetPort: sink.port)
        defer { proxy.stop() }

        #expect(Self.push(20_000, to: proxy.port) == 20_000)
        #expect(Self.waitForCounts(sink, 1) == [20_000])
        #expect(proxy.lastConnection.cut == false)

        proxy.armCut(after: 2_500)
        _ = Self.push(200_000, to: proxy.port)
        #expect(Self.waitForCounts(sink, 2) == [20_000, 2_500])
        for _ in 0..<500 where proxy.lastConnection.forwarded != 2_500 { usleep(10_000) }
        #expect(proxy.lastConnection.cut == true)
        #expect(proxy.lastConnection.forwarded == 2_500)

        // The cut was for one connection only.
        #expect(Self.push(3_000, to: proxy.port) == 3_000)
        #expect(Self.waitForCounts(sink, 3) == [20_000, 2_500, 3_000])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TCP connect with a timeout, and `poll()` on one descriptor: the socket layer under a session.
enum TCPSocket {
    /// Resolves `host` (IPv4 or IPv6) and connects to the first address that answers within
    /// `timeout`. Returns the connected, non-blocking descriptor, owned by the caller.
    static func connect(host: String, port: Int, timeout: Duration, label: String) throws(SSHError) -> Int32 {
        let op = "connecting to \(label)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
                              String(port), &hints, &list)
        guard gai == 0, let first = list else {
            throw SSHError(.resolveFailed, host: label, operation: op, detail: String(cString: gai_strerror(gai)))
        }
        defer { freeaddrinfo(list) }
        var lastError = SSHError(.resolveFailed, host: label, operation: op, detail: "no address")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { lastError = errnoError(errno, label: label, op: op); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                lastError = errnoError(errno, label: label, op: op); _ = close(fd); continue
            }
            let ready = wait(fd: fd, events: Int16(POLLOUT), milliseconds: milliseconds(timeout))
            if ready == 0 {
                lastError = SSHError(.connectTimeout, host: label, operation: op,
                                     detail: "no answer within \(timeout)"); _ = close(fd); continue
            }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            if ready > 0 && soError == 0 { return fd }
            lastError = errnoError(soError != 0 ? soError : errno, label: label, op: op)
            _ = close(fd)
        }
        throw lastError
    }

    /// `poll()` on one descriptor; retries on EINTR. Returns poll's result.
    static func wait(fd: Int32, events: Int16, milliseconds: Int) -> Int32 {
        var p = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let rc = poll(&p, 1, Int32(clamping: milliseconds))
            if rc < 0 && errno == EINTR { continue }
            return rc
        }
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (s, atto) = d.components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }

    private static func errnoError(_ code: Int32, label: String, op: String) -> SSHError {
        let kind: SSHError.Code = switch code {
        case ECONNREFUSED: .connectionRefused
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: .hostUnreachable
        case ETIMEDOUT: .connectTimeout
        default: .socketFailed
        }
        return SSHError(kind, host: label, operation: op, detail: String(cString: strerror(code)))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where a replica's master can be reached (`--master-host HOST[:PORT]`), recorded so that
/// `replica promote` can check the old master is really gone.
public struct MasterAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Parses `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT`; the port defaults to 22.
    /// - Throws: `FailoverError.badAddress`.
    public init(parsing text: String) throws(FailoverError) {
        let bad = { (why: String) in FailoverError(.badAddress, subject: text, detail: why) }
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("unclosed [") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad("text after ]") }
                portText = String(rest.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else { throw bad("an IPv6 address goes in [brackets]") }
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-_:".contains($0) }) else {
            throw bad("empty host or a character not allowed in a host name")
        }
        var port = 22
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw bad("port must be 1-65535") }
            port = p
        }
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 in brackets: the form `init(parsing:)` reads back.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether something accepts a TCP connection there within `timeout` seconds (each address
    /// the name resolves to is tried). Wraps `getaddrinfo`, `connect` (non-blocking) and `poll`.
    /// - Returns: the address that answered, or nil when none did (or the name does not resolve).
    public func answers(timeout: Double) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            if Self.connects(ai.pointee, timeout: timeout) { return description }
        }
        return nil
    }

    private static func connects(_ ai: addrinfo, timeout: Double) -> Bool {
        let fd = socket(ai.ai_family, ai.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), ai.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, Int32(max(1, timeout * 1000))) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return false }
        return error == 0
    }
}

import SSHTransport

/// The replica protocol over an SSH exec channel running `cloudmin-mirror-rpc` (the replica's
/// forced command turns it into `cloudmin-mirror replica serve`).
final class ExecStream: ByteStream {
    let channel: ExecChannel

    init(_ channel: ExecChannel) { self.channel = channel }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try channel.read(into: buffer)
        if n == 0 {
            // The replica ended the conversation: keep what it said on stderr for the error.
            var err = [UInt8](repeating: 0, count: 4096)
            let m = (try? err.withUnsafeMutableBytes { try channel.readStderr(into: $0) }) ?? 0
            if m > 0 {
                let text = String(decoding: err[..<m], as: UTF8.self).trimmingWhitespace()
                throw ProtocolError(.closed, peer: channel.session.label, detail: text)
            }
        }
        return n
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try channel.write(bytes) }
}

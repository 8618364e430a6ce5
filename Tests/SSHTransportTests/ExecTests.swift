import Foundation
import SSHTransport
import Testing
import TestSupport

@Suite("SSH exec channels")
struct ExecTests {
    @Test("exit codes, stdout and stderr come back separately")
    func exitCodes() throws {
        let f = try Fixture()
        let session = try f.connect()
        let ok = try session.run("printf out; printf err >&2; exit 0")
        #expect(ok.status == 0)
        #expect(ok.stdout == Array("out".utf8))
        #expect(ok.stderr == Array("err".utf8))
        let failed = try session.run("echo oops >&2; exit 42")
        #expect(failed.status == 42)
        #expect(failed.stderr == Array("oops\n".utf8))
        #expect(try session.run("exit 3").status == 3)
        let killed = try session.run("kill -TERM $$")
        #expect(killed.signal == "TERM")
    }

    @Test("stdin streams through while stdout and stderr are both busy (no deadlock)")
    func bigStreams() throws {
        let f = try Fixture()
        let session = try f.connect()
        var input = [UInt8](repeating: 0, count: 8 << 20)
        for i in input.indices { input[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 9) }
        // cat copies 8 MiB to stdout while a second copy goes to stderr: both exceed every window.
        let result = try session.run("tee /dev/stderr", stdin: input)
        #expect(result.status == 0)
        #expect(result.stdout == input)
        #expect(result.stderr == input)
    }

    @Test("the low-level channel writes stdin, sends EOF, reads stdout and the exit status")
    func lowLevel() throws {
        let f = try Fixture()
        let session = try f.connect()
        let channel = try ExecChannel(session: session, command: "wc -c")
        try Array("hello world".utf8).withUnsafeBytes { try channel.write($0) }
        try channel.sendEOF()
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 100)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try channel.read(into: $0) }
            if n == 0 { break }
            out += buffer[..<n]
        }
        #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "11")
        #expect(try channel.waitForExit().status == 0)
    }
}

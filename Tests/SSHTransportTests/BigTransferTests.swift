import Foundation
import SSHTransport
import SystemPackage
import Testing
import TestSupport

@Suite("SFTP 1 GiB round trip")
struct BigTransferTests {
    /// 1 GiB: 1 MiB of random data every 8 MiB, holes in between (what VM images look like),
    /// plus a random tail that does not end on a buffer boundary.
    static func makeSource(at path: String, size: Int64) throws {
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        try fd.closeAfter {
            let random = try FileDescriptor.open("/dev/urandom", .readOnly)
            defer { try? random.close() }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var offset: Int64 = 0
            while offset < size - (1 << 20) {
                _ = try chunk.withUnsafeMutableBytes { try random.read(into: $0) }
                _ = try chunk.withUnsafeBytes { try fd.writeAll(toAbsoluteOffset: offset, $0) }
                offset += 8 << 20
            }
            _ = try chunk.withUnsafeMutableBytes { try random.read(into: $0) }
            _ = try chunk[..<4321].withUnsafeBytes { try fd.writeAll(toAbsoluteOffset: size - 4321, $0) }
        }
    }

    static func sha256(_ path: String) throws -> String {
        String(try runTool("/usr/bin/sha256sum", [path]).split(separator: " ")[0])
    }

    @Test("upload then download of a 1 GiB file keeps every byte (sha256sum on all three copies)")
    func oneGiB() throws {
        let f = try Fixture()
        let session = try f.connect()
        let sftp = try SFTPClient(session: session)
        let size: Int64 = 1 << 30
        let source = f.scratch.file("big.img"), remote = f.scratch.file("big.remote"), back = f.scratch.file("big.back")
        try Self.makeSource(at: source, size: size)
        let free = try sftp.statvfs(f.scratch.path).availableBytes
        try #require(free > UInt64(3 * size), "not enough free space for the 1 GiB round trip")

        let input = try FileDescriptor.open(source, .readOnly)
        let sent = try input.closeAfter { try sftp.upload(from: input, to: remote) }
        #expect(sent == UInt64(size))
        let output = try FileDescriptor.open(back, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let received = try output.closeAfter { try sftp.download(from: remote, to: output) }
        #expect(received == UInt64(size))
        try session.close()

        let digest = try Self.sha256(source)
        #expect(try Self.sha256(remote) == digest)
        #expect(try Self.sha256(back) == digest)
        for path in [source, remote, back] { try? FileManager.default.removeItem(atPath: path) }
    }
}

import Foundation
import SSHTransport
import SystemPackage
import Testing
import TestSupport

@Suite("SFTP operations")
struct SFTPTests {
    @Test("files, directories, links and attributes round-trip through the real server")
    func operations() throws {
        let f = try Fixture()
        let session = try f.connect()
        let sftp = try SFTPClient(session: session)
        let root = f.scratch.file("remote")
        try sftp.mkdir(root, mode: 0o750)
        #expect(try sftp.stat(root).fileType == .directory)

        let path = root + "/a.txt"
        let file = try sftp.open(path, flags: [.write, .create, .truncate], mode: 0o600)
        try file.write(Array("hello sftp".utf8))
        try file.fsync()
        #expect(try file.stat().size == 10)
        try file.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello sftp")

        let reader = try sftp.open(path)
        #expect(try reader.read(upTo: 5) == Array("hello".utf8))
        try reader.seek(to: 6)
        #expect(try reader.read(upTo: 100) == Array("sftp".utf8))
        #expect(try reader.read(upTo: 100) == [])
        try reader.close()

        try sftp.setAttributes(path, SFTPAttributes(permissions: 0o640, accessTime: 1_000_000, modificationTime: 2_000_000))
        let attrs = try sftp.stat(path)
        #expect(attrs.mode == 0o640)
        #expect(attrs.modificationTime == 2_000_000)
        let local = try FileManager.default.attributesOfItem(atPath: path)
        #expect((local[.modificationDate] as? Date)?.timeIntervalSince1970 == 2_000_000)
        #expect(attrs.uid == UInt32(geteuid()))

        try sftp.symlink(at: root + "/link", target: "a.txt")
        #expect(try sftp.readlink(root + "/link") == "a.txt")
        #expect(try sftp.lstat(root + "/link").fileType == .symlink)
        #expect(try sftp.stat(root + "/link").fileType == .regular)
        #expect(try sftp.realpath(root + "/.") == URL(fileURLWithPath: root).resolvingSymlinksInPath().path)

        try sftp.rename(path, to: root + "/b.txt")
        let names = try sftp.contentsOfDirectory(root).map(\.name).sorted()
        #expect(names == ["b.txt", "link"])
        #expect(try sftp.contentsOfDirectory(root).first { $0.name == "b.txt" }?.attributes.size == 10)

        let space = try sftp.statvfs(root)
        #expect(space.availableBytes > 0)
        let fsAttributes = try FileManager.default.attributesOfFileSystem(forPath: root)
        #expect(space.blocks * space.fragmentSize == (fsAttributes[FileAttributeKey.systemSize] as? NSNumber)?.uint64Value)

        try sftp.unlink(root + "/link")
        try sftp.unlink(root + "/b.txt")
        try sftp.rmdir(root)
        #expect(!FileManager.default.fileExists(atPath: root))
    }

    @Test("OpenSSH's plain rename fails when the target exists")
    func renameOntoExisting() throws {
        let f = try Fixture()
        let sftp = try SFTPClient(session: try f.connect())
        let a = f.scratch.file("a"), b = f.scratch.file("b")
        try "a".write(toFile: a, atomically: false, encoding: .utf8)
        try "b".write(toFile: b, atomically: false, encoding: .utf8)
        #expect(sshError { try sftp.rename(a, to: b) } != nil)
        #expect(try String(contentsOfFile: b, encoding: .utf8) == "b")
        try sftp.unlink(b)
        try sftp.rename(a, to: b)
        #expect(try String(contentsOfFile: b, encoding: .utf8) == "a")
    }

    @Test("missing paths give noSuchFile, naming the path")
    func missingPaths() throws {
        let f = try Fixture()
        let sftp = try SFTPClient(session: try f.connect())
        let missing = f.scratch.file("missing/x")
        let error = try #require(sshError { _ = try sftp.open(missing) })
        #expect(error.code == .noSuchFile)
        #expect(error.operation.contains(missing))
        #expect(sshErrorCode { _ = try sftp.stat(missing) } == .noSuchFile)
        #expect(sshErrorCode { try sftp.unlink(missing) } == .noSuchFile)
        #expect(sshErrorCode { _ = try sftp.contentsOfDirectory(missing) } == .noSuchFile)
        // The session stays usable after SFTP-level errors.
        #expect(try sftp.stat(f.scratch.path).fileType == .directory)
    }

    @Test("a read-only SFTP server gives permissionDenied for writes")
    func permissionDenied() throws {
        let f = try Fixture(sftpServer: "internal-sftp -R")
        let sftp = try SFTPClient(session: try f.connect())
        let path = f.scratch.file("ro")
        #expect(sshErrorCode { _ = try sftp.open(path, flags: [.write, .create]) } == .permissionDenied)
        #expect(sshErrorCode { try sftp.mkdir(path) } == .permissionDenied)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a directory without permission gives permissionDenied (non-root only: root bypasses modes)")
    func modePermissionDenied() throws {
        guard geteuid() != 0 else { return }
        let f = try Fixture()
        let sftp = try SFTPClient(session: try f.connect())
        let dir = f.scratch.file("closed")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o000])
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir) }
        #expect(sshErrorCode { _ = try sftp.open(dir + "/x", flags: [.write, .create]) } == .permissionDenied)
    }

    @Test("upload and download helpers copy a file with holes and odd size exactly")
    func transfers() throws {
        let f = try Fixture()
        let sftp = try SFTPClient(session: try f.connect())
        let source = f.scratch.file("src")
        var bytes = [UInt8](repeating: 0, count: 3 << 20 + 12345)
        for i in stride(from: 0, to: bytes.count, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }
        _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
        let remote = f.scratch.file("remote-copy")
        let fd = try FileDescriptor.open(source, .readOnly)
        var seen: [UInt64] = []
        let sent = try fd.closeAfter { try sftp.upload(from: fd, to: remote, mode: 0o600, fsync: true, progress: { seen.append($0) }) }
        #expect(sent == UInt64(bytes.count))
        #expect(seen.last == sent)
        #expect(try sftp.stat(remote).mode == 0o600)
        let back = f.scratch.file("back")
        let out = try FileDescriptor.open(back, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let received = try out.closeAfter { try sftp.download(from: remote, to: out) }
        #expect(received == sent)
        #expect(FileManager.default.contents(atPath: back) == Data(bytes))
    }
}


#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// Excludes `*.lock` files and directories named `tmp`, and says which rule did it.
struct LockAndTmpFilter: PathFilter {
    func decide(_ path: String, isDirectory: Bool) -> FilterDecision {
        if path.hasSuffix(".lock") { return FilterDecision(included: false, rule: "- *.lock") }
        if isDirectory && path.split(separator: "/").last == "tmp" { return FilterDecision(included: false, rule: "- tmp/") }
        return .defaultInclude
    }
}

/// Records every path it is asked about.
final class RecordingFilter: PathFilter, @unchecked Sendable {
    // Scans run synchronously on the calling thread; the lock only guards against misuse.
    private let lock = NSLock()
    private var asked: [String] = []
    func decide(_ path: String, isDirectory: Bool) -> FilterDecision {
        lock.withLock { asked.append(path) }
        return .defaultInclude
    }
    var paths: [String] { lock.withLock { asked } }
}

@Suite struct ScannerTests {
    @Test func recordsKindsMetadataAndSymlinksWithoutFollowing() throws {
        let tree = try TestTree()
        try tree.mkdir("etc/webmin/server-manager")
        try tree.write("etc/webmin/server-manager/12.serv", "id=12\nhost=a\n", mode: 0o600)
        try tree.write("etc/webmin/server-manager/setuid", "x", mode: 0o4750)
        try tree.mkdir("etc/webmin/server-manager/shared", mode: 0o1777)
        try tree.symlink("etc/webmin/server-manager/outside", to: "../../../../etc")
        try tree.symlink("etc/webmin/server-manager/dangling", to: "/nonexistent/target")
        try tree.write("etc/webmin/other", "not scanned")
        #expect(lchown(tree.absolute("etc/webmin/server-manager/12.serv"), 1234, 5678) == 0)
        tree.setMtime("etc/webmin/server-manager/12.serv", ns: 1_650_000_000_987_654_321)
        tree.age()

        let result = try tree.scan(["etc/webmin/server-manager"])
        let m = result.manifest
        #expect(m.entries.map(\.path) == [
            "etc/webmin/server-manager",
            "etc/webmin/server-manager/12.serv",
            "etc/webmin/server-manager/dangling",
            "etc/webmin/server-manager/outside",
            "etc/webmin/server-manager/setuid",
            "etc/webmin/server-manager/shared",
        ])
        let serv = try #require(m["etc/webmin/server-manager/12.serv"])
        #expect(serv.kind == .file && serv.size == 13 && serv.mode == 0o600)
        #expect(serv.uid == 1234 && serv.gid == 5678)
        #expect(serv.mtimeNs == 1_650_000_000_987_654_321)
        #expect(serv.inode != 0 && serv.ctimeNs != 0)
        var hasher = ContentHasher()
        Array("id=12\nhost=a\n".utf8).withUnsafeBytes { hasher.update($0) }
        #expect(serv.digest == hasher.finalize())
        #expect(m["etc/webmin/server-manager/setuid"]?.mode == 0o4750)
        #expect(m["etc/webmin/server-manager/shared"]?.mode == 0o1777)
        #expect(m["etc/webmin/server-manager/shared"]?.kind == .directory)
        let outside = try #require(m["etc/webmin/server-manager/outside"])
        #expect(outside.kind == .symlink && outside.symlinkTarget == "../../../../etc" && outside.digest == nil)
        #expect(m["etc/webmin/server-manager/dangling"]?.symlinkTarget == "/nonexistent/target")
        #expect(result.warnings.isEmpty)
        #expect(result.stats.files == 2 && result.stats.directories == 2 && result.stats.symlinks == 2)
    }

    @Test func skipsSpecialFilesWithAWarning() throws {
        let tree = try TestTree()
        try tree.mkdir("data")
        try tree.write("data/keep", "k")
        #expect(mkfifo(tree.absolute("data/fifo"), 0o644) == 0)
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(sock) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let sockPath = Array(tree.absolute("data/sock").utf8CString)
        try #require(sockPath.count <= MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in sockPath.withUnsafeBytes { raw.copyMemory(from: $0) } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        // A character device (like /dev/null) where the container allows mknod.
        let madeDevice = mknod(tree.absolute("data/null"), S_IFCHR | 0o644, dev_t(1 << 8 | 3)) == 0  // makedev(1, 3)
        tree.age()

        let result = try tree.scan()
        #expect(result.manifest.entries.map(\.path) == ["data", "data/keep"])
        var expected: Set = [
            ScanWarning(path: "data/fifo", code: .specialFileSkipped, keptPrevious: false),
            ScanWarning(path: "data/sock", code: .specialFileSkipped, keptPrevious: false),
        ]
        if madeDevice { expected.insert(ScanWarning(path: "data/null", code: .specialFileSkipped, keptPrevious: false)) }
        #expect(Set(result.warnings) == expected)
    }

    @Test func recordsSparseFilesWithExtentsAndTheirDenseDigest() throws {
        let tree = try TestTree()
        try tree.mkdir("data")
        let size: Int64 = 8 << 20
        let chunk = testBytes(10000, seed: 11)
        try tree.writeSparse("data/disk.img", size: size, data: [(3 << 20, chunk)])
        var dense = [UInt8](repeating: 0, count: Int(size))
        dense.replaceSubrange((3 << 20)..<((3 << 20) + chunk.count), with: chunk)
        try tree.write("data/dense.img", dense)
        tree.age()

        let result = try tree.scan()
        let sparse = try #require(result.manifest["data/disk.img"])
        let full = try #require(result.manifest["data/dense.img"])
        #expect(sparse.digest == full.digest)
        #expect(sparse.size == size)
        #expect(full.extents.isEmpty)
        try #require(sparse.extents.count == 1)
        #expect(sparse.extents[0].offset <= 3 << 20 && sparse.extents[0].end >= (3 << 20) + 10000)
        #expect(result.stats.bytesHashed < 2 * size)
    }

    @Test func noChangeRescanReadsNoDataAndAChangeRehashesOneFile() throws {
        let tree = try TestTree()
        for index in 0..<20 { try tree.write("data/d\(index % 3)/f\(index)", testBytes(3000 + index, seed: UInt64(index))) }
        tree.age()
        let first = try tree.scan()
        #expect(first.stats.filesHashed == 20)

        let second = try tree.scan(previous: first.manifest)
        #expect(second.stats.filesHashed == 0 && second.stats.bytesHashed == 0)
        #expect(second.manifest == first.manifest)

        try tree.write("data/d1/f4", testBytes(3004, seed: 99))
        tree.age()
        let third = try tree.scan(previous: second.manifest)
        #expect(third.stats.filesHashed == 1)
        #expect(third.manifest["data/d1/f4"]?.digest != first.manifest["data/d1/f4"]?.digest)
        #expect(third.manifest["data/d1/f7"] == first.manifest["data/d1/f7"])

        // A changed digest that the quick check would keep is not trusted across an inode change.
        try tree.write("data/d0/f0.new", testBytes(3000, seed: 0))
        #expect(rename(tree.absolute("data/d0/f0.new"), tree.absolute("data/d0/f0")) == 0)
        tree.age()
        let fourth = try tree.scan(previous: third.manifest)
        #expect(fourth.stats.filesHashed == 1)
        #expect(fourth.manifest["data/d0/f0"]?.digest == first.manifest["data/d0/f0"]?.digest)
    }

    @Test func filterExclusionsAreRecordedAndNotDescended() throws {
        let tree = try TestTree()
        try tree.write("data/12.serv", "a")
        try tree.write("data/12.serv.lock", "123")
        try tree.write("data/tmp/inner/x", "x")
        try tree.write("data/sub/tmp", "a file named tmp is kept")
        tree.age()
        let result = try tree.scan(filter: LockAndTmpFilter())
        #expect(result.manifest.entries.map(\.path) == ["data", "data/12.serv", "data/sub", "data/sub/tmp"])
        #expect(Set(result.excluded) == [
            ScanExclusion(path: "data/12.serv.lock", isDirectory: false, decision: FilterDecision(included: false, rule: "- *.lock")),
            ScanExclusion(path: "data/tmp", isDirectory: true, decision: FilterDecision(included: false, rule: "- tmp/")),
        ])

        let recording = RecordingFilter()
        _ = try tree.scan(filter: recording)
        #expect(recording.paths.contains("data"))
        #expect(!recording.paths.contains { !$0.hasPrefix("data") })
    }

    @Test func treeRootsMissingNestedAndThroughSymlinks() throws {
        let tree = try TestTree()
        try tree.write("etc/webmin/server-manager/1.serv", "a")
        try tree.write("var/real/images/a.img", "img")
        try tree.symlink("var/link", to: "real")
        try tree.symlink("etc/webmin/sm-link", to: "server-manager")
        tree.age()

        let result = try tree.scan(["etc/webmin/server-manager", "etc/webmin/server-manager/1.serv", "var/cloudmin/images"])
        #expect(result.manifest.entries.map(\.path) == ["etc/webmin/server-manager", "etc/webmin/server-manager/1.serv"])
        #expect(result.warnings == [ScanWarning(path: "var/cloudmin/images", code: .treeMissing, keptPrevious: false)])
        try tree.write("etc/server-manager-license", "SerialNumber=1", mode: 0o600)
        tree.age()
        let single = try tree.scan(["etc/server-manager-license"])
        #expect(single.manifest.entries.map(\.kind) == [.file])
        #expect(single.manifest["etc/server-manager-license"]?.mode == 0o600)

        for (trees, named) in [(["var/link/images"], "var/link"), (["etc/webmin/sm-link"], "etc/webmin/sm-link")] {
            do { _ = try tree.scan(trees); Issue.record("scanned through a symlink") } catch {
                #expect(error.code == .symlinkInTreePath)
                #expect(error.path == named)
            }
        }
        do { _ = try tree.scan(["etc/webmin/server-manager/1.serv/x"]); Issue.record("scanned below a file") } catch {
            #expect(error.code == .notADirectory)
        }
        do { _ = try tree.scan(["../etc"]); Issue.record("accepted ..") } catch {
            #expect(error.code == .invalidTreePath(.dotDotComponent))
        }
        do { _ = try Scanner(root: tree.absolute("nope"), trees: ["x"]).scan(); Issue.record("missing root") } catch {
            #expect(error.code == .rootUnavailable(.noSuchFileOrDirectory))
        }
    }

    @Test func unreadableFilesAndDirectoriesAreLeftOutOrKept() throws {
        let tree = try TestTree()
        try tree.write("data/ok", "ok")
        try tree.write("data/secret", "s")
        try tree.write("data/closed/inner", "i")
        #expect(chmod(tree.root, 0o755) == 0)
        tree.age()
        let before = try tree.scan()

        #expect(chmod(tree.absolute("data/secret"), 0) == 0)
        #expect(chmod(tree.absolute("data/closed"), 0) == 0)
        let root = tree.root
        let fresh = try withoutPrivileges { try Scanner(root: root, trees: ["data"]).scan() }
        #expect(fresh.manifest.entries.map(\.path) == ["data", "data/closed", "data/ok"])
        #expect(Set(fresh.warnings) == [
            ScanWarning(path: "data/secret", code: .unreadable(.permissionDenied), keptPrevious: false),
            ScanWarning(path: "data/closed", code: .unreadable(.permissionDenied), keptPrevious: false),
        ])

        let previous = before.manifest
        let kept = try withoutPrivileges { try Scanner(root: root, trees: ["data"]).scan(previous: previous) }
        #expect(kept.manifest["data/secret"] == before.manifest["data/secret"])
        #expect(kept.manifest["data/closed/inner"] == before.manifest["data/closed/inner"])
        #expect(kept.warnings.allSatisfy { $0.keptPrevious })
    }

    @Test func manifestIsInByteOrderAndNonUTF8NamesAreReported() throws {
        let tree = try TestTree()
        for path in ["data/a/x", "data/a-b", "data/a.c/y", "data/a0", "data/A", "data/é", "data/a/x y"] { try tree.write(path, path) }
        var raw = Array(tree.absolute("data/bad").utf8CString.dropLast())
        raw.append(contentsOf: [CChar(bitPattern: 0xFF), 0])
        let fd = open(raw, O_WRONLY | O_CREAT, 0o644)
        try #require(fd >= 0)
        close(fd)
        tree.age()
        let result = try tree.scan()
        let paths = result.manifest.entries.map(\.path)
        #expect(paths == paths.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(paths.count == 10)
        #expect(result.warnings.map(\.code) == [.invalidName])
        #expect(try Manifest(decoding: result.manifest.encoded()) == result.manifest)
    }
}

/// Holds a worker thread's result: written before the thread signals, read after the wait.
final class ThreadResult<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}

/// `setfsuid`/`setfsgid` (in glibc, not in Swift's Glibc module), looked up with `dlsym`.
private typealias SetFSID = @convention(c) (UInt32) -> Int32
private func fsidCall(_ name: String) -> SetFSID {
    unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), name)!, to: SetFSID.self)
}

/// Runs `body` on a fresh thread whose file-system uid and gid are `nobody` when this process
/// is root (`setfsuid` is per thread and drops CAP_DAC_OVERRIDE), so mode 000 really denies.
func withoutPrivileges<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    let box = ThreadResult<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let root = geteuid() == 0
        let setfsuid = fsidCall("setfsuid"), setfsgid = fsidCall("setfsgid")
        if root { _ = setfsgid(65534); _ = setfsuid(65534) }
        box.value = Result { try body() }
        if root { _ = setfsuid(0); _ = setfsgid(0) }
        done.signal()
    }
    thread.start()
    done.wait()
    return try box.value!.get()
}

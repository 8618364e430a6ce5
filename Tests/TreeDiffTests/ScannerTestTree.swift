#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TreeDiff

/// A temporary directory tree for scanner and plan tests; removed on deinit.
final class TestTree {
    let root: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "treediff-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        // Make everything writable and readable again so removal cannot fail on modes.
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwx", root]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: root)
    }

    func absolute(_ path: String) -> String { root + "/" + path }

    func mkdir(_ path: String, mode: mode_t = 0o755) throws {
        var built = ""
        for component in path.split(separator: "/") {
            built += built.isEmpty ? String(component) : "/" + component
            if Glibc.mkdir(absolute(built), mode) != 0 && errno != EEXIST { throw POSIXError(.init(rawValue: errno)!) }
        }
        _ = chmod(absolute(path), mode)
    }

    func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        if let parent = RelativePath.parent(of: path) { try mkdir(parent) }
        let fd = open(absolute(path), O_WRONLY | O_CREAT | O_TRUNC, mode)
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        _ = fchmod(fd, mode)
    }

    func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try write(path, Array(text.utf8), mode: mode)
    }

    /// A sparse file of `size` bytes holding `data` at each offset, holes elsewhere.
    func writeSparse(_ path: String, size: Int64, data: [(offset: Int64, bytes: [UInt8])]) throws {
        let fd = open(absolute(path), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(ftruncate(fd, off_t(size)) == 0)
        for run in data {
            let written = run.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(run.offset)) }
            try #require(written == run.bytes.count)
        }
    }

    func symlink(_ path: String, to target: String) throws {
        try #require(Glibc.symlink(target, absolute(path)) == 0)
    }

    func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: absolute(path))))
    }

    /// Sets the modification time (not following symlinks).
    func setMtime(_ path: String, ns: Int64) {
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2),  // UTIME_OMIT
                     timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))]
        #expect(utimensat(AT_FDCWD, absolute(path), &times, AT_SYMLINK_NOFOLLOW) == 0)
    }

    /// Makes every entry older than the scanner's settle window, so scans need not wait.
    func age() { usleep(40_000) }

    func scan(_ trees: [String] = ["data"], filter: any PathFilter = IncludeEverything(), previous: Manifest? = nil) throws(ScanError) -> ScanResult {
        try Scanner(root: root, trees: trees, filter: filter).scan(previous: previous)
    }
}

/// Deterministic bytes for test content.
func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TreeDiff

/// A counter and a stop flag shared with a helper thread.
final class SharedCounter: @unchecked Sendable {
    // Every access goes through the lock.
    private let lock = NSLock()
    private var count = 0
    private var stopped = false
    func increment() -> Int { lock.withLock { count += 1; return count } }
    var value: Int { lock.withLock { count } }
    func stop() { lock.withLock { stopped = true } }
    var isStopped: Bool { lock.withLock { stopped } }
}

/// Overwrites `length` bytes at `offset` of an existing file (the size stays the same).
func overwrite(_ file: String, at offset: Int64, with bytes: [UInt8]) {
    let fd = open(file, O_WRONLY)
    guard fd >= 0 else { return }
    _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    close(fd)
}

@Suite struct ScannerChangingFileTests {
    @Test func aFileChangedAfterEveryHashIsReportedNeverRecordedTorn() throws {
        let tree = try TestTree()
        try tree.write("data/stable", "s")
        try tree.write("data/hot", testBytes(200_000, seed: 1))
        tree.age()
        let previous = try tree.scan().manifest
        let file = tree.absolute("data/hot")
        let calls = SharedCounter()

        var scanner = Scanner(root: tree.root, trees: ["data"])
        scanner.settleNanoseconds = 0  // exercise the before/after comparison alone
        scanner.afterHashHook = { path in
            guard path == "data/hot" else { return }
            overwrite(file, at: 100, with: [UInt8(truncatingIfNeeded: calls.increment())])
        }
        // Force a rehash: the quick check must not reuse the digest.
        overwrite(file, at: 0, with: [42])
        let result = try scanner.scan()
        #expect(result.manifest["data/hot"] == nil)
        #expect(result.manifest["data/stable"] != nil)
        #expect(result.warnings == [ScanWarning(path: "data/hot", code: .changedDuringRead, keptPrevious: false)])
        #expect(calls.value == scanner.maxAttempts)

        let kept = try scanner.scan(previous: previous)
        #expect(kept.manifest["data/hot"] == previous["data/hot"])
        #expect(kept.warnings == [ScanWarning(path: "data/hot", code: .changedDuringRead, keptPrevious: true)])
    }

    @Test func aFileChangedOnceIsRehashedToItsFinalContent() throws {
        let tree = try TestTree()
        let original = testBytes(300_000, seed: 2)
        try tree.write("data/hot", original)
        tree.age()
        let file = tree.absolute("data/hot")
        let calls = SharedCounter()
        var scanner = Scanner(root: tree.root, trees: ["data"])
        scanner.afterHashHook = { _ in
            if calls.increment() == 1 { overwrite(file, at: 150_000, with: [0xFF, 0xFE]) }
        }
        let result = try scanner.scan()
        var final = original
        final[150_000] = 0xFF
        final[150_001] = 0xFE
        var hasher = ContentHasher()
        final.withUnsafeBytes { hasher.update($0) }
        #expect(result.warnings.isEmpty)
        #expect(result.manifest["data/hot"]?.digest == hasher.finalize())
        #expect(calls.value == 2)
    }

    @Test func aFileRewrittenByAnotherThreadDuringTheScanIsReported() throws {
        let tree = try TestTree()
        let size = 48 << 20
        let file = tree.absolute("data/image.img")
        let pattern = testBytes(1 << 20, seed: 3)
        try tree.write("data/image.img", pattern)
        for index in 1..<(size >> 20) { overwrite(file, at: Int64(index) << 20, with: pattern) }
        try tree.write("data/other", "o")
        tree.age()
        let writes = SharedCounter()
        let stopped = DispatchSemaphore(value: 0)
        let writer = Thread {
            let fd = open(file, O_WRONLY)
            var offset: Int64 = 0
            var block = testBytes(4096, seed: 4)
            while !writes.isStopped {
                block[0] = UInt8(truncatingIfNeeded: writes.increment())
                _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
                offset = (offset + 1 << 20 + 4096) % Int64(size - 4096)
            }
            close(fd)
            stopped.signal()
        }
        writer.start()
        defer {
            writes.stop()
            stopped.wait()
        }
        while writes.value < 10 { usleep(1000) }

        let result = try tree.scan()
        #expect(result.manifest["data/image.img"] == nil)
        #expect(result.manifest["data/other"] != nil)
        #expect(result.warnings == [ScanWarning(path: "data/image.img", code: .changedDuringRead, keptPrevious: false)])
    }
}

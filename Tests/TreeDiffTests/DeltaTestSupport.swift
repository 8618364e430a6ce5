import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// Deterministic generator (SplitMix64) so every property case can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            var w = next()
            for _ in 0..<8 where i < n {
                out[i] = UInt8(truncatingIfNeeded: w)
                w >>= 8
                i += 1
            }
        }
        return out
    }
}

/// A scratch directory removed at deinit.
final class DeltaScratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("delta-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
}

/// Opens a file, runs `body`, closes it.
@discardableResult
func withFile<T>(_ path: String, _ mode: FileDescriptor.AccessMode,
                 create: Bool = false, _ body: (FileDescriptor) throws -> T) throws -> T {
    let fd = try FileDescriptor.open(FilePath(path), mode,
                                     options: create ? [.create, .truncate] : [],
                                     permissions: create ? [.ownerReadWrite] : nil)
    defer { try? fd.close() }
    return try body(fd)
}

/// Feeds `input` to a push-style job in random-sized pieces (1 byte ... `maxPiece`), collecting
/// its output and the largest output chunk seen.
func feedInPieces(
    _ input: [UInt8], rng: inout SeededRandom, maxPiece: Int,
    feed: (UnsafeRawBufferPointer, Bool, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
) throws -> (output: [UInt8], largestChunk: Int) {
    var output: [UInt8] = []
    var largest = 0
    let collect: (UnsafeRawBufferPointer) throws -> Void = { chunk in
        largest = max(largest, chunk.count)
        output.append(contentsOf: chunk)
    }
    try input.withUnsafeBytes { all in
        var start = 0
        repeat {
            let n = min(Int.random(in: 0...maxPiece, using: &rng), all.count - start)
            let isLast = start + n == all.count
            try feed(UnsafeRawBufferPointer(rebasing: all[start..<start + n]), isLast, collect)
            start += n
            if isLast { break }
        } while true
    }
    return (output, largest)
}

/// Applies random edits (overwrite, insert, delete, append, truncate) to `base`.
func randomEdits(of base: [UInt8], rng: inout SeededRandom) -> [UInt8] {
    var new = base
    for _ in 0..<Int.random(in: 0...8, using: &rng) {
        let at = new.isEmpty ? 0 : Int.random(in: 0..<new.count, using: &rng)
        let len = Int.random(in: 1...5000, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: // overwrite
            let n = min(len, new.count - at)
            new.replaceSubrange(at..<at + n, with: rng.bytes(n))
        case 1: new.insert(contentsOf: rng.bytes(len), at: at)
        case 2: new.removeSubrange(at..<min(new.count, at + len))
        case 3: new.append(contentsOf: rng.bytes(len))
        default: new.removeLast(min(len, new.count))
        }
    }
    return new
}

/// Runs a real command, failing the test if it exits non-zero.
@discardableResult
func runTool(_ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

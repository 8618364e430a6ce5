import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

private func signatureBytes(_ base: [UInt8], _ p: DeltaParameters = DeltaParameters()) throws -> [UInt8] {
    var out: [UInt8] = []
    let job = try SignatureGenerator(parameters: p)
    try base.withUnsafeBytes { try job.feed($0, isLast: true) { out.append(contentsOf: $0) } }
    return out
}

private func deltaBytes(_ sig: [UInt8], _ new: [UInt8]) throws -> [UInt8] {
    let signature = try sig.withUnsafeBytes { try Signature.load($0) }
    var out: [UInt8] = []
    let job = try DeltaGenerator(signature: signature)
    try new.withUnsafeBytes { try job.feed($0, isLast: true) { out.append(contentsOf: $0) } }
    return out
}

private func patch(basePath: String, _ delta: [UInt8]) throws -> [UInt8] {
    try withFile(basePath, .readOnly) { fd in
        var out: [UInt8] = []
        let p = try Patcher(base: fd)
        try delta.withUnsafeBytes { try p.feed($0, isLast: true) { out.append(contentsOf: $0) } }
        return out
    }
}

private func code(_ body: () throws -> Void) -> DeltaError.Code? {
    do { try body() } catch let e as DeltaError { return e.code } catch { return nil }
    return nil
}

@Suite struct DeltaErrorTests {
    @Test func notASignatureIsBadMagic() throws {
        var rng = SeededRandom(seed: 1)
        let junk = rng.bytes(1000)
        #expect(code { _ = try junk.withUnsafeBytes { try Signature.load($0) } } == .badMagic)
    }

    @Test func aSignatureIsNotADelta() throws {
        var rng = SeededRandom(seed: 2)
        let scratch = try DeltaScratch()
        let base = rng.bytes(50_000)
        let sig = try signatureBytes(base)
        let path = try scratch.write("base", base)
        #expect(code { _ = try patch(basePath: path, sig) } == .badMagic)
    }

    @Test func truncatedStreamsEndEarly() throws {
        var rng = SeededRandom(seed: 3)
        let scratch = try DeltaScratch()
        let base = rng.bytes(50_000)
        var new = base
        new.replaceSubrange(20_000..<30_000, with: rng.bytes(10_000))
        let sig = try signatureBytes(base)
        let delta = try deltaBytes(sig, new)
        let path = try scratch.write("base", base)
        #expect(code { _ = try patch(basePath: path, Array(delta.dropLast(1))) } == .inputEnded)
        #expect(code { _ = try Array(sig.prefix(6)).withUnsafeBytes { try Signature.load($0) } } == .inputEnded)
    }

    @Test func bytesAfterTheDeltaAreCorrupt() throws {
        var rng = SeededRandom(seed: 4)
        let scratch = try DeltaScratch()
        let base = rng.bytes(20_000)
        let delta = try deltaBytes(try signatureBytes(base), base)
        let path = try scratch.write("base", base)
        #expect(try patch(basePath: path, delta) == base)
        #expect(code { _ = try patch(basePath: path, delta + [0]) } == .corrupt)
    }

    @Test func baseShorterThanTheDeltaExpects() throws {
        var rng = SeededRandom(seed: 5)
        let scratch = try DeltaScratch()
        let base = rng.bytes(64_000)
        let delta = try deltaBytes(try signatureBytes(base), base)
        let path = try scratch.write("short", Array(base.prefix(10_000)))
        #expect(code { _ = try patch(basePath: path, delta) } == .inputEnded)
    }

    @Test func unreadableBaseIsAnIOError() throws {
        var rng = SeededRandom(seed: 6)
        let scratch = try DeltaScratch()
        let base = rng.bytes(64_000)
        let delta = try deltaBytes(try signatureBytes(base), base)
        let path = try scratch.write("base", base)
        // A write-only descriptor: pread fails with EBADF inside librsync's copy callback.
        let result = code {
            try withFile(path, .writeOnly) { fd in
                let p = try Patcher(base: fd)
                try delta.withUnsafeBytes { try p.feed($0, isLast: true) { _ in } }
            }
        }
        #expect(result == .ioError(errno: EBADF))
    }

    @Test func invalidParametersAreRefused() {
        #expect(code { _ = try SignatureGenerator(parameters: DeltaParameters(blockLength: 0)) } == .invalidParameters)
        #expect(code { _ = try SignatureGenerator(parameters: DeltaParameters(strongLength: 33)) } == .invalidParameters)
        #expect(code { _ = try SignatureGenerator(parameters: DeltaParameters(strongLength: 17, format: .md4)) }
            == .invalidParameters)
    }

    @Test func jobIsUnusableAfterAFailure() throws {
        var rng = SeededRandom(seed: 8)
        let junk = rng.bytes(100)
        let loader = try SignatureLoader()
        let first = code { try junk.withUnsafeBytes { try loader.feed($0, isLast: false) } }
        #expect(first == .badMagic)
        #expect(code { try junk.withUnsafeBytes { try loader.feed($0, isLast: true) } } == .badMagic)
    }

    @Test func recommendedBlockLengthsGrowWithSizeAndBoundTheBlockCount() throws {
        #expect(DeltaParameters.recommended(forFileSize: 0).blockLength == 4096)
        #expect(DeltaParameters.recommended(forFileSize: 1 << 30).blockLength == 4096)
        #expect(DeltaParameters.recommended(forFileSize: 4 << 30).blockLength == 4096)
        #expect(DeltaParameters.recommended(forFileSize: (4 << 30) + 1).blockLength == 8192)
        #expect(DeltaParameters.recommended(forFileSize: 1 << 40).blockLength == 1 << 20)
        for shift in stride(from: 0, through: 40, by: 2) {
            let p = DeltaParameters.recommended(forFileSize: Int64(1) << shift)
            try p.validate()
            #expect(shift > 40 || (Int64(1) << shift) / Int64(p.blockLength) <= 1 << 20)
        }
    }
}

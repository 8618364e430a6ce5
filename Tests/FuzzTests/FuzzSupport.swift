#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A small, fast, seedable PRNG (SplitMix64), so every fuzz input can be regenerated from the
/// seed and the iteration number.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How many inputs each decoder gets: `CLOUDMIN_FUZZ_ITERATIONS` or a default small enough for
/// the whole target to run in seconds in a debug build; the seed from `CLOUDMIN_FUZZ_SEED`.
enum FuzzBudget {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["CLOUDMIN_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1500
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["CLOUDMIN_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xC10D_0717
    }
}

/// Turns valid encodings into hostile ones: bit flips, byte replacements, truncation,
/// extension, splicing two inputs, varints and fixed-width length fields set to huge values,
/// and pure random bytes.
struct Mutator {
    var rng: SplitMix64
    let seeds: [[UInt8]]

    init(seed: UInt64, seeds: [[UInt8]]) {
        precondition(!seeds.isEmpty, "a fuzzer needs at least one valid input")
        rng = SplitMix64(seed: seed)
        self.seeds = seeds
    }

    /// Bytes the mutations favour: boundaries of signed and unsigned integers, `/`, `.`, NUL.
    static let interesting: [UInt8] = [0x00, 0x01, 0x2E, 0x2F, 0x7F, 0x80, 0xFE, 0xFF]
    /// Encodings of huge lengths: LEB128 varints near 2^63/2^64 and fixed-width maxima.
    static let hugeFields: [[UInt8]] = [
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        [0x80, 0x80, 0x80, 0x80, 0x04],
        [0xFF, 0xFF, 0xFF, 0xFF],
        [0x7F, 0xFF, 0xFF, 0xFF],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        [0x00, 0x00, 0x00, 0x00],
    ]

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }

    /// The next hostile input.
    mutating func next() -> [UInt8] {
        if int(0..<20) == 0 {
            return (0..<int(0..<512)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        var bytes = seeds[int(0..<seeds.count)]
        for _ in 0..<(1 + int(0..<4)) { mutate(&bytes) }
        return bytes
    }

    private mutating func position(in bytes: [UInt8]) -> Int { bytes.isEmpty ? 0 : int(0..<bytes.count) }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        switch int(0..<9) {
        case 0 where !bytes.isEmpty:
            let p = position(in: bytes)
            bytes[p] ^= 1 << UInt8(int(0..<8))
        case 1 where !bytes.isEmpty:
            bytes[position(in: bytes)] = Self.interesting[int(0..<Self.interesting.count)]
        case 2 where !bytes.isEmpty:
            bytes[position(in: bytes)] = UInt8.random(in: 0...255, using: &rng)
        case 3:
            bytes.removeLast(bytes.isEmpty ? 0 : int(0..<(bytes.count + 1)))
        case 4:
            bytes.append(contentsOf: (0..<int(1..<64)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 5:
            let other = seeds[int(0..<seeds.count)]
            let cut = position(in: bytes)
            let from = position(in: other)
            bytes = Array(bytes[..<cut]) + Array(other[from...])
        case 6:
            let p = position(in: bytes)
            let field = Self.hugeFields[int(0..<Self.hugeFields.count)]
            let end = min(bytes.count, p + field.count)
            bytes.replaceSubrange(p..<end, with: field)
        case 7 where bytes.count > 1:
            // Duplicate or drop a run (repeated entries, skipped fields).
            let a = position(in: bytes), n = int(1..<min(64, bytes.count - a + 1))
            if int(0..<2) == 0 { bytes.insert(contentsOf: bytes[a..<(a + n)], at: a) } else { bytes.removeSubrange(a..<(a + n)) }
        default:
            if !bytes.isEmpty { bytes.insert(Self.interesting[int(0..<Self.interesting.count)], at: position(in: bytes)) }
        }
    }
}

/// Aborts the process when one input takes longer than its budget: a hang fails the run as a
/// crash does, and names the decoder and iteration so it can be replayed from the seed.
final class HangWatchdog: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var label = ""
    private var iteration = 0
    private var startedAt = Date()
    private var active = false
    private var stopped = false
    static let shared = HangWatchdog()
    /// The most one input may take (debug build, loaded machine).
    static let budgetSeconds: Double = 30

    private init() {
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let hung: String? = lock.withLock {
                    guard active, Date().timeIntervalSince(startedAt) > Self.budgetSeconds else { return nil }
                    return "\(label) input \(iteration) (seed \(FuzzBudget.seed))"
                }
                if let hung {
                    FileHandle.standardError.write(Data("fuzz: \(hung) ran over \(Self.budgetSeconds)s: a hang\n".utf8))
                    abort()
                }
            }
        }
    }

    func begin(_ label: String, _ iteration: Int) {
        lock.withLock { self.label = label; self.iteration = iteration; startedAt = Date(); active = true }
    }

    func end() { lock.withLock { active = false } }
}

/// What a fuzz campaign saw, for the report line.
struct FuzzTally: CustomStringConvertible {
    let decoder: String
    var inputs = 0
    var decoded = 0
    var refused = 0
    var description: String { "fuzz \(decoder): \(inputs) inputs, \(decoded) decoded, \(refused) refused with their typed error" }
}

/// Runs `decode` on `FuzzBudget.iterations` inputs mutated from `seeds`.
///
/// `decode` returns true when the input decoded, false when it was refused with the decoder's
/// own error type; any other error is recorded as an issue. Every valid seed must decode.
/// A crash (trap) kills the test process; a hang trips the watchdog.
@discardableResult
func fuzz(_ decoder: String, seeds: [[UInt8]], iterations: Int = FuzzBudget.iterations, salt: UInt64 = 0,
          _ decode: ([UInt8]) throws -> Bool) rethrows -> FuzzTally {
    var tally = FuzzTally(decoder: decoder)
    for (i, seed) in seeds.enumerated() {
        #expect(try decode(seed), "valid seed \(i) of \(decoder) must decode")
    }
    var mutator = Mutator(seed: FuzzBudget.seed ^ salt ^ UInt64(truncatingIfNeeded: decoder.hashValueStable), seeds: seeds)
    for i in 0..<iterations {
        let input = mutator.next()
        HangWatchdog.shared.begin(decoder, i)
        if try decode(input) { tally.decoded += 1 } else { tally.refused += 1 }
        HangWatchdog.shared.end()
        tally.inputs += 1
    }
    print(tally)
    return tally
}

extension String {
    /// FNV-1a of the UTF-8 bytes: a hash stable across runs (unlike `hashValue`).
    var hashValueStable: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

/// The 32-byte content digest of a regular file (see `ContentHasher` for the definition).
///
/// Stored inline as four words: hashing, comparing and copying allocate nothing.
/// Codable as a 64-character lowercase hex string; `description` is the same hex.
public struct ContentDigest: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The digest length in bytes.
    public static let byteCount = 32

    private var w0, w1, w2, w3: UInt64

    /// Creates a digest from exactly 32 bytes.
    /// - Parameter bytes: the raw digest bytes.
    /// - Returns: nil when `bytes` does not hold exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        (w0, w1, w2, w3) = words
    }

    /// Parses a 64-character hex string (either case).
    /// - Returns: nil when `hex` is not 64 hex digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 2 * Self.byteCount else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    /// The raw 32 bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Calls `body` with the raw 32 bytes, without allocating.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: (w0, w1, w2, w3)) { try body($0) }
    }

    /// Lowercase hex.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        return withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: 2 * Self.byteCount) { out in
                for (index, byte) in raw.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0xF)]
                }
                return 2 * Self.byteCount
            }
        }
    }

    /// Orders digests by their bytes (for stable output).
    public static func < (lhs: ContentDigest, rhs: ContentDigest) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in l.lexicographicallyPrecedes(r) } }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let digest = ContentDigest(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 64-digit hex content digest: \(hex)")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

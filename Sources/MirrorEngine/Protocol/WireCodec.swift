/// Appends protocol fields to a byte buffer: fixed-width big-endian integers, LEB128 varints,
/// length-prefixed bytes and strings.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) {
        bytes.append(contentsOf: [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)])
    }
    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    public mutating func int(_ v: Int) { varint(UInt64(bitPattern: Int64(v))) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    public mutating func data(_ v: some Collection<UInt8>) { varint(UInt64(v.count)); bytes.append(contentsOf: v) }
    public mutating func string(_ v: String) { data(Array(v.utf8)) }
    public mutating func raw(_ v: some Collection<UInt8>) { bytes.append(contentsOf: v) }
}

/// Reads protocol fields from a byte buffer, bounds-checking every length: malformed input
/// ends in a `ProtocolError`, never a crash or an oversized allocation.
public struct WireReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    public let peer: String

    public init(_ bytes: [UInt8], peer: String = "peer") {
        self.bytes = bytes
        self.offset = 0
        self.peer = peer
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    private func fail(_ what: String) -> ProtocolError { ProtocolError(.truncated, peer: peer, detail: "\(what) at byte \(offset)") }

    public mutating func u8() throws(ProtocolError) -> UInt8 {
        guard offset < bytes.count else { throw fail("u8") }
        defer { offset += 1 }
        return bytes[offset]
    }
    public mutating func u32() throws(ProtocolError) -> UInt32 {
        guard remaining >= 4 else { throw fail("u32") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
    public mutating func varint() throws(ProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            if shift == 63 && b > 1 { throw ProtocolError(.badValue, peer: peer, detail: "varint overflow at byte \(offset)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw ProtocolError(.badValue, peer: peer, detail: "varint too long at byte \(offset)") }
        }
    }
    public mutating func int() throws(ProtocolError) -> Int { Int(Int64(bitPattern: try varint())) }
    /// A non-negative count or size no larger than `max`.
    public mutating func count(max: Int) throws(ProtocolError) -> Int {
        let v = try varint()
        guard v <= UInt64(max) else { throw ProtocolError(.tooLarge, peer: peer, detail: "\(v) > \(max) at byte \(offset)") }
        return Int(v)
    }
    public mutating func bool() throws(ProtocolError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw ProtocolError(.badValue, peer: peer, detail: "bool \(b) at byte \(offset)")
        }
    }
    public mutating func data(max: Int) throws(ProtocolError) -> [UInt8] {
        let n = try count(max: max)
        return try raw(n)
    }
    public mutating func raw(_ n: Int) throws(ProtocolError) -> [UInt8] {
        guard n >= 0, remaining >= n else { throw fail("\(n) bytes") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
    public mutating func string(max: Int = 4096) throws(ProtocolError) -> String {
        let d = try data(max: max)
        guard let s = String(validating: d, as: UTF8.self) else {
            throw ProtocolError(.badValue, peer: peer, detail: "string that is not UTF-8 at byte \(offset)")
        }
        return s
    }
    /// Fails unless every byte was read.
    public func expectEnd(_ what: String) throws(ProtocolError) {
        guard isAtEnd else { throw ProtocolError(.badValue, peer: peer, detail: "\(remaining) trailing bytes after \(what)") }
    }
}

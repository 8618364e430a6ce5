/// Appends LEB128 varints and raw bytes to a growing buffer.
struct ByteWriter {
    var buffer: [UInt8] = []

    mutating func byte(_ value: UInt8) { buffer.append(value) }

    mutating func bytes(_ value: some Sequence<UInt8>) { buffer.append(contentsOf: value) }

    mutating func bytes(_ value: UnsafeRawBufferPointer) { buffer.append(contentsOf: value) }

    mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func fixed16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.append(UInt8(rest))
    }

    /// A signed value, zigzag encoded.
    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A length-prefixed UTF-8 string.
    mutating func string(_ value: String) {
        varint(UInt64(value.utf8.count))
        bytes(value.utf8)
    }
}

/// Reads what `ByteWriter` wrote, bounds-checking every step.
/// Failures are `.truncated` or `.invalidEntry` with the offset.
struct ByteReader {
    let data: UnsafeRawBufferPointer
    var offset: Int

    init(_ data: UnsafeRawBufferPointer, offset: Int = 0) {
        self.data = data
        self.offset = offset
    }

    var remaining: Int { data.count - offset }

    mutating func byte() throws(ManifestError) -> UInt8 {
        guard offset < data.count else { throw ManifestError(code: .truncated, offset: offset) }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func bytes(_ count: Int) throws(ManifestError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw ManifestError(code: .truncated, offset: offset) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: data[offset..<offset + count])
    }

    mutating func fixed64() throws(ManifestError) -> UInt64 {
        let raw = try bytes(8)
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(raw[index]) }
        return value
    }

    mutating func fixed16() throws(ManifestError) -> UInt16 {
        let raw = try bytes(2)
        return UInt16(raw[0]) | UInt16(raw[1]) << 8
    }

    mutating func varint() throws(ManifestError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            if shift == 63 && next > 1 { throw ManifestError(code: .invalidEntry, offset: start, detail: "varint overflow") }
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw ManifestError(code: .invalidEntry, offset: start, detail: "varint too long") }
        }
    }

    /// A varint that must not exceed `limit`.
    mutating func varint(max limit: UInt64, _ what: String) throws(ManifestError) -> UInt64 {
        let start = offset
        let value = try varint()
        guard value <= limit else { throw ManifestError(code: .invalidEntry, offset: start, detail: "\(what) \(value) above \(limit)") }
        return value
    }

    /// A length-prefixed string that must be valid UTF-8.
    mutating func string() throws(ManifestError) -> String {
        let start = offset
        let n = try varint(max: UInt64(remaining), "string length")
        let raw = try bytes(Int(n))
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw ManifestError(code: .invalidPath, offset: start, detail: "not UTF-8")
        }
        return s
    }

    mutating func signed() throws(ManifestError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}

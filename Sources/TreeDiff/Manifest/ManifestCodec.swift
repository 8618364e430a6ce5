import Crypto

// The binary manifest format, version 1 (all integers little-endian or LEB128 varints):
//
//   header  "CMMF" | UInt16 version | UInt16 flags (0) | UInt64 entry count | UInt64 body length
//   body    entries in manifest order, each:
//             varint shared-prefix length (bytes shared with the previous path)
//             varint suffix length, suffix bytes
//             UInt8 kind (0 file, 1 directory, 2 symlink)
//             varint mode, varint uid, varint gid, zigzag mtimeNs
//             zigzag ctimeNs, varint inode, varint device          (local quick-check fields)
//             file:    varint size, 32-byte digest, varint extent count,
//                      extents as (varint gap from previous end, varint length)
//             symlink: varint target length, target bytes
//   trailer SHA-256 of header and body
//
// The explicit body length tells a truncated file (`.truncated`) from a corrupt one
// (`.checksumMismatch`) before any entry is parsed.

extension Manifest {
    /// The format version written by this build.
    public static let formatVersion: UInt16 = 1
    static let magic: [UInt8] = Array("CMMF".utf8)
    static let headerLength = 24
    static let maxEntries: UInt64 = 1 << 28
    static let maxExtents: UInt64 = 1 << 24

    /// The binary encoding (see the format description in ManifestCodec.swift).
    public func encoded() -> [UInt8] {
        var body = ByteWriter()
        body.buffer.reserveCapacity(entries.count * 96)
        var previous: [UInt8] = []
        for entry in entries {
            let path = Array(entry.path.utf8)
            var shared = 0
            while shared < min(previous.count, path.count) && previous[shared] == path[shared] { shared += 1 }
            body.varint(UInt64(shared))
            body.varint(UInt64(path.count - shared))
            body.bytes(path[shared...])
            previous = path
            body.byte(entry.kind.code)
            body.varint(UInt64(entry.mode))
            body.varint(UInt64(entry.uid))
            body.varint(UInt64(entry.gid))
            body.signed(entry.mtimeNs)
            body.signed(entry.ctimeNs)
            body.varint(entry.inode)
            body.varint(entry.device)
            switch entry.kind {
            case .file:
                body.varint(UInt64(entry.size))
                (entry.digest ?? ContentDigest(bytes: [UInt8](repeating: 0, count: 32))!).withUnsafeBytes { body.bytes($0) }
                body.varint(UInt64(entry.extents.count))
                var end: Int64 = 0
                for extent in entry.extents {
                    body.varint(UInt64(extent.offset - end))
                    body.varint(UInt64(extent.length))
                    end = extent.end
                }
            case .symlink:
                body.string(entry.symlinkTarget ?? "")
            case .directory:
                break
            }
        }
        var out = ByteWriter()
        out.buffer.reserveCapacity(Self.headerLength + body.buffer.count + 32)
        out.bytes(Self.magic)
        out.fixed16(Self.formatVersion)
        out.fixed16(0)
        out.fixed64(UInt64(entries.count))
        out.fixed64(UInt64(body.buffer.count))
        out.bytes(body.buffer)
        let checksum = SHA256.hash(data: out.buffer)
        out.bytes(checksum)
        return out.buffer
    }

    /// Decodes and fully validates a binary manifest.
    /// - Parameter bytes: the encoding produced by `encoded()`.
    /// - Throws: `ManifestError` (`.badMagic`, `.unsupportedVersion`, `.truncated`, `.trailingData`,
    ///   `.checksumMismatch`, `.invalidPath`, `.unsorted`, `.duplicatePath`, `.invalidEntry`).
    public init(decoding bytes: [UInt8]) throws(ManifestError) {
        let result: Result<[ManifestEntry], ManifestError> = bytes.withUnsafeBytes { raw in
            do throws(ManifestError) { return .success(try Self.decodeEntries(raw)) } catch { return .failure(error) }
        }
        self.init(sortedUnchecked: try result.get())
    }

    private static func decodeEntries(_ data: UnsafeRawBufferPointer) throws(ManifestError) -> [ManifestEntry] {
        let magicPrefix = min(data.count, magic.count)
        guard data.prefix(magicPrefix).elementsEqual(magic.prefix(magicPrefix)) else { throw ManifestError(code: .badMagic, offset: 0) }
        var reader = ByteReader(data)
        guard data.count >= headerLength else { throw ManifestError(code: .truncated, offset: data.count) }
        _ = try reader.bytes(4)
        let version = try reader.fixed16()
        guard version == formatVersion else { throw ManifestError(code: .unsupportedVersion(version), offset: 4) }
        let flags = try reader.fixed16()
        guard flags == 0 else { throw ManifestError(code: .invalidEntry, offset: 6, detail: "unknown flags \(flags)") }
        let count = try reader.fixed64()
        let bodyLength = try reader.fixed64()
        guard count <= maxEntries else { throw ManifestError(code: .invalidEntry, offset: 8, detail: "entry count \(count)") }
        let available = UInt64(data.count - headerLength)
        guard bodyLength <= available, available - bodyLength >= 32 else {
            throw ManifestError(code: .truncated, offset: data.count, detail: "expected \(bodyLength) body bytes and a 32-byte checksum")
        }
        guard available - bodyLength == 32 else { throw ManifestError(code: .trailingData, offset: headerLength + Int(bodyLength) + 32) }
        let checked = headerLength + Int(bodyLength)
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: data[..<checked]))
        let expected = hasher.finalize()
        guard expected.elementsEqual(data[checked...]) else { throw ManifestError(code: .checksumMismatch, offset: checked) }

        var body = ByteReader(UnsafeRawBufferPointer(rebasing: data[..<checked]), offset: headerLength)
        var entries: [ManifestEntry] = []
        entries.reserveCapacity(Int(min(count, bodyLength / 12)))
        var previous: [UInt8] = []
        for _ in 0..<count {
            entries.append(try decodeEntry(&body, previous: &previous))
        }
        guard body.remaining == 0 else { throw ManifestError(code: .invalidEntry, offset: body.offset, detail: "body longer than its entries") }
        return entries
    }

    private static func decodeEntry(_ reader: inout ByteReader, previous: inout [UInt8]) throws(ManifestError) -> ManifestEntry {
        let start = reader.offset
        let shared = Int(try reader.varint(max: UInt64(previous.count), "shared prefix"))
        let suffixLength = Int(try reader.varint(max: UInt64(RelativePath.maxLength), "path length"))
        let suffix = try reader.bytes(suffixLength)
        var pathBytes = Array(previous[..<shared])
        pathBytes.append(contentsOf: suffix)
        let problem = pathBytes.withUnsafeBytes { RelativePath.problemIn($0) }
        guard problem == nil, let path = String(validating: pathBytes, as: UTF8.self) else {
            throw ManifestError(code: .invalidPath, offset: start, detail: String(decoding: pathBytes, as: UTF8.self))
        }
        if !previous.isEmpty {
            if pathBytes == previous { throw ManifestError(code: .duplicatePath, offset: start, detail: path) }
            if !previous.lexicographicallyPrecedes(pathBytes) { throw ManifestError(code: .unsorted, offset: start, detail: path) }
        }
        previous = pathBytes
        let kindOffset = reader.offset
        guard let kind = EntryKind(code: try reader.byte()) else {
            throw ManifestError(code: .invalidEntry, offset: kindOffset, detail: "\(path): unknown kind")
        }
        var entry = ManifestEntry(
            path: path, kind: kind,
            mode: UInt32(try reader.varint(max: 0o7777, "mode")),
            uid: UInt32(try reader.varint(max: UInt64(UInt32.max), "uid")),
            gid: UInt32(try reader.varint(max: UInt64(UInt32.max), "gid")),
            mtimeNs: try reader.signed())
        entry.ctimeNs = try reader.signed()
        entry.inode = try reader.varint()
        entry.device = try reader.varint()
        switch kind {
        case .file:
            entry.size = Int64(try reader.varint(max: UInt64(Int64.max), "size"))
            entry.digest = ContentDigest(bytes: try reader.bytes(ContentDigest.byteCount))
            let extentCount = try reader.varint(max: maxExtents, "extent count")
            var end: Int64 = 0
            for _ in 0..<extentCount {
                // Bounded by what is left of the file (end <= size holds), so no sum overflows.
                let gap = try reader.varint(max: UInt64(entry.size - end), "extent offset")
                let length = try reader.varint(max: UInt64(entry.size - end - Int64(gap)), "extent length")
                let extent = DataExtent(offset: end + Int64(gap), length: Int64(length))
                entry.extents.append(extent)
                end = extent.end
            }
        case .symlink:
            let length = Int(try reader.varint(max: UInt64(RelativePath.maxLength), "symlink target length"))
            let raw = try reader.bytes(length)
            guard let target = String(validating: raw, as: UTF8.self) else {
                throw ManifestError(code: .invalidEntry, offset: start, detail: "\(path): symlink target is not UTF-8")
            }
            entry.symlinkTarget = target
            entry.size = Int64(length)
        case .directory:
            break
        }
        if let problem = Manifest.problem(in: entry) {
            throw ManifestError(code: .invalidEntry, offset: start, detail: "\(path): \(problem)")
        }
        return entry
    }
}

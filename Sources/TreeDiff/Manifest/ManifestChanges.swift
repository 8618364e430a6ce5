/// The difference between two manifests as entries to set and paths to drop: what a master
/// sends at commit instead of the whole manifest when the replica holds the base (a churn
/// cycle changes a few hundred of thousands of entries, and each carries a 32-byte digest).
public struct ManifestChanges: Sendable, Equatable {
    /// Paths of the base that the target does not have.
    public var removed: [String]
    /// Entries of the target that are new or differ from the base's (replicated fields, or extents).
    public var upserted: [ManifestEntry]

    public init(removed: [String], upserted: [ManifestEntry]) {
        self.removed = removed
        self.upserted = upserted
    }

    /// What turns `base` into `target` (local-only fields ignored).
    public static func between(_ base: Manifest, _ target: Manifest) -> ManifestChanges {
        var removed: [String] = []
        var upserted: [ManifestEntry] = []
        var i = 0, j = 0
        let a = base.entries, b = target.entries
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && RelativePath.precedes(a[i].path, b[j].path)) {
                removed.append(a[i].path); i += 1
            } else if i == a.count || RelativePath.precedes(b[j].path, a[i].path) {
                upserted.append(b[j].replicated); j += 1
            } else {
                if !a[i].sameReplicatedFields(as: b[j]) || a[i].extents != b[j].extents { upserted.append(b[j].replicated) }
                i += 1; j += 1
            }
        }
        return ManifestChanges(removed: removed, upserted: upserted)
    }

    /// The target rebuilt from `base`.
    /// - Throws: `ManifestError` `.invalidEntry` when a removed path is not in the base,
    ///   `.invalidPath`/`.duplicatePath` from the result's validation.
    public func applied(to base: Manifest) throws(ManifestError) -> Manifest {
        var byPath: [String: ManifestEntry] = [:]
        byPath.reserveCapacity(base.count + upserted.count)
        for e in base.entries { byPath[e.path] = e.replicated }
        for path in removed {
            guard byPath.removeValue(forKey: path) != nil else {
                throw ManifestError(code: .invalidEntry, detail: "\(path): removed but not in the base")
            }
        }
        for e in upserted { byPath[e.path] = e }
        return try Manifest(entries: Array(byPath.values))
    }

    private static let magic: [UInt8] = Array("CMMC".utf8) + [1]

    /// Magic and version, the removed paths, then the upserted entries as a manifest encoding.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Self.magic)
        w.varint(UInt64(removed.count))
        for path in removed { w.string(path) }
        w.bytes(Manifest(sortedUnchecked: upserted).encoded())
        return w.buffer
    }

    /// Decodes and validates changes (every path checked, the upserts a valid manifest).
    /// - Throws: `ManifestError`.
    public init(decoding bytes: [UInt8]) throws(ManifestError) {
        guard bytes.count >= Self.magic.count, Array(bytes[..<Self.magic.count]) == Self.magic else {
            throw ManifestError(code: .badMagic)
        }
        let decoded: Result<([String], Int), ManifestError> = bytes.withUnsafeBytes { raw in
            do throws(ManifestError) {
                return .success(try Self.decodeRemoved(raw))
            } catch {
                return .failure(error)
            }
        }
        let (removed, rest) = try decoded.get()
        self.removed = removed
        self.upserted = try Manifest(decoding: Array(bytes[rest...])).entries
    }

    private static func decodeRemoved(_ raw: UnsafeRawBufferPointer) throws(ManifestError) -> ([String], Int) {
        var r = ByteReader(raw, offset: magic.count)
        let n = try r.varint(max: UInt64(raw.count), "removed paths")
        var removed: [String] = []
        removed.reserveCapacity(Int(n))
        for _ in 0..<n {
            let path = try r.string()
            guard RelativePath.isValid(path) else { throw ManifestError(code: .invalidPath, offset: r.offset, detail: path) }
            removed.append(path)
        }
        return (removed, r.offset)
    }
}

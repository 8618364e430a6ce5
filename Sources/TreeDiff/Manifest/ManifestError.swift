import SystemPackage

/// A manifest that cannot be decoded, loaded or saved.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The data does not start with the manifest magic: not a manifest.
        case badMagic
        /// A manifest format version this build cannot read.
        case unsupportedVersion(UInt16)
        /// The data ends early (an interrupted write or copy).
        case truncated
        /// Bytes follow the end of the manifest.
        case trailingData
        /// The trailing SHA-256 does not match the content: the manifest is corrupt.
        case checksumMismatch
        /// An entry path is not a valid root-relative path.
        case invalidPath
        /// Entries are not in strictly increasing path order.
        case unsorted
        /// Two entries have the same path.
        case duplicatePath
        /// An entry field is out of range or inconsistent (bad kind, bad extents, missing digest).
        case invalidEntry
        /// Reading or writing the manifest file failed.
        case io(Errno)
    }

    public var code: Code
    /// The manifest file, when loading from or saving to one.
    public var file: String?
    /// The byte offset in the encoding where the problem was found, when decoding.
    public var offset: Int?
    /// Extra context: the offending entry path or the operation that failed.
    public var detail: String?

    public init(code: Code, file: String? = nil, offset: Int? = nil, detail: String? = nil) {
        self.code = code
        self.file = file
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        let what: String
        switch code {
        case .badMagic: what = "is not a cloudmin-mirror manifest (bad magic)"
        case .unsupportedVersion(let v): what = "has format version \(v), which this build cannot read; upgrade cloudmin-mirror"
        case .truncated: what = "is truncated"
        case .trailingData: what = "has data after its end"
        case .checksumMismatch: what = "is corrupt (checksum mismatch)"
        case .invalidPath: what = "holds an invalid path"
        case .unsorted: what = "holds entries out of order"
        case .duplicatePath: what = "holds a path twice"
        case .invalidEntry: what = "holds an invalid entry"
        case .io(let errno): what = "could not be accessed: \(errno)"
        }
        var text = "manifest \(file.map { "'\($0)' " } ?? "")\(what)"
        if let offset { text += " at byte \(offset)" }
        if let detail { text += " (\(detail))" }
        switch code {
        case .io: text += "; check the path and permissions"
        case .unsupportedVersion: break
        default: text += "; delete it and rescan (a replica gets a full comparison on the next run)"
        }
        return text
    }
}

/// A Webmin `key=value` file, read as Webmin's `read_file` does: each line is split at its
/// first `=`, lines starting with `#` are comments, lines without `=` are ignored, nothing is
/// quoted or trimmed, and a later duplicate key replaces an earlier one.
public struct WebminRecord: Sendable, Hashable {
    /// The keys and values, in the order first seen.
    public private(set) var entries: [(key: String, value: String)]

    /// The largest record `read(_:under:)` accepts: Cloudmin records are a few KiB.
    public static let maximumSize = 1 << 20

    /// Parses record text.
    /// - Parameter bytes: the file's bytes (not necessarily UTF-8: bad bytes become U+FFFD).
    /// - Throws: `WebminRecordError` `.binary` when the bytes hold a NUL, which no record does.
    public init(bytes: [UInt8], path: String = "") throws(WebminRecordError) {
        guard !bytes.contains(0) else { throw WebminRecordError(code: .binary, path: path, detail: "") }
        entries = []
        var index: [String: Int] = [:]
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var line = rawLine[...]
            while line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.first != UInt8(ascii: "#"), let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: line[line.startIndex..<eq], as: UTF8.self)
            let value = String(decoding: line[(eq + 1)...], as: UTF8.self)
            if let i = index[key] {
                entries[i].value = value
            } else {
                index[key] = entries.count
                entries.append((key, value))
            }
        }
    }

    /// Reads a record inside a tree without following symlinks.
    /// - Parameters:
    ///   - relativePath: root-relative path of the record.
    ///   - root: the tree's root directory.
    /// - Throws: `WebminRecordError`: `.notFound`, `.notRegularFile` (symlinks included),
    ///   `.tooLarge`, `.unreadable`, `.binary`.
    public static func read(_ relativePath: String, under root: String) throws(WebminRecordError) -> WebminRecord {
        let bytes: [UInt8]
        do {
            bytes = try RootedTree(root: root).readFile(relativePath, limit: maximumSize)
        } catch {
            switch error {
            case .notFound: throw WebminRecordError(code: .notFound, path: relativePath, detail: "")
            case .notRegularFile: throw WebminRecordError(code: .notRegularFile, path: relativePath, detail: "")
            case let .tooLarge(size): throw WebminRecordError(code: .tooLarge, path: relativePath, detail: "\(size) bytes")
            case let .failed(reason): throw WebminRecordError(code: .unreadable, path: relativePath, detail: reason)
            }
        }
        return try WebminRecord(bytes: bytes, path: relativePath)
    }

    /// The value of a key, or `nil` when the record does not have it.
    public subscript(key: String) -> String? {
        entries.last { $0.key == key }?.value
    }

    public static func == (lhs: WebminRecord, rhs: WebminRecord) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}

/// A Webmin record that could not be read.
public struct WebminRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound
        /// A symlink, directory or device: records are never read through links.
        case notRegularFile
        case tooLarge
        case unreadable
        /// The file holds NUL bytes: it is not a `key=value` record.
        case binary
    }

    public let code: Code
    /// The record's root-relative path.
    public let path: String
    public let detail: String

    public var description: String {
        switch code {
        case .notFound: return "\(path): no such record"
        case .notRegularFile: return "\(path): not a regular file (records are never read through symlinks)"
        case .tooLarge: return "\(path): too large for a Webmin record (\(detail)); check what wrote it"
        case .unreadable: return "\(path): cannot be read (\(detail)); check its permissions"
        case .binary: return "\(path): holds binary data, not key=value lines; check what wrote it"
        }
    }
}

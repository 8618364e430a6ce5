/// A problem with the configuration file, naming the file and line.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// The file could not be read (errno in `detail`).
        case unreadable
        /// A line is neither a comment, a `[replica NAME]` header nor `key = value`.
        case syntax
        /// A key that this version does not know.
        case unknownKey
        /// A value that does not parse for its key.
        case badValue
        /// A key that may appear once appears twice.
        case duplicateKey
        /// Two `[replica NAME]` sections with one name.
        case duplicateReplica
        /// A replica section without `host`.
        case missingHost
        /// A replica name with characters outside `[A-Za-z0-9._-]`.
        case badReplicaName
        /// No replica of that name.
        case noSuchReplica
        /// Writing the file failed.
        case unwritable
    }

    public var code: Code
    /// The configuration file.
    public var file: String
    /// 1-based line number, when the problem is on one line.
    public var line: Int?
    /// What was found, or the underlying error.
    public var detail: String

    public init(_ code: Code, file: String, line: Int? = nil, detail: String) {
        self.code = code
        self.file = file
        self.line = line
        self.detail = detail
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        switch code {
        case .unreadable: return "\(place): cannot read the configuration (\(detail)); check the path given with --config"
        case .syntax: return "\(place): expected `key = value` or `[replica NAME]`, found \(detail)"
        case .unknownKey: return "\(place): unknown key \(detail); see the commented defaults in `cloudmin-mirror config --print-default`"
        case .badValue: return "\(place): \(detail)"
        case .duplicateKey: return "\(place): \(detail) is set twice; keep one"
        case .duplicateReplica: return "\(place): replica \(detail) is defined twice; rename or remove one section"
        case .missingHost: return "\(place): replica \(detail) has no `host = ...` line"
        case .badReplicaName: return "\(place): replica name \(detail) may only use letters, digits, '.', '_' and '-'"
        case .noSuchReplica: return "\(place): no replica named \(detail); `cloudmin-mirror status` lists them"
        case .unwritable: return "\(place): cannot write the configuration (\(detail))"
        }
    }
}

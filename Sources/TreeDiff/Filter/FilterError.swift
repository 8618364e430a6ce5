/// A rules file that cannot be used.
public struct FilterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The file could not be opened or read (missing, a directory, permissions).
        case unreadable
        /// The file is larger than a rules file can sensibly be.
        case tooLarge
        /// The file is not UTF-8 text.
        case notText
        /// A line starts with something other than `-`, `+`, `exclude`, `include`, `#` or `;`.
        case unknownRuleType
        /// A rule has no pattern after its type.
        case missingPattern
    }

    public let code: Code
    /// The rules file.
    public let file: String
    /// The 1-based line, or `nil` when the problem is with the whole file.
    public let line: Int?
    /// The offending line, or the system's reason when the file could not be read.
    public let text: String

    public init(code: Code, file: String, line: Int?, text: String) {
        self.code = code
        self.file = file
        self.line = line
        self.text = text
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        switch code {
        case .unreadable:
            return "\(place): cannot read the filter rules file (\(text)); check the path and its permissions"
        case .tooLarge:
            return "\(place): the filter rules file is too large (\(text)); a rules file holds a few hundred rules at most"
        case .notText:
            return "\(place): the filter rules file is not UTF-8 text"
        case .unknownRuleType:
            return "\(place): unsupported filter rule \"\(text)\"; accepted are \"- PATTERN\", \"+ PATTERN\", "
                + "\"exclude PATTERN\", \"include PATTERN\", blank lines and comments starting with # or ;"
        case .missingPattern:
            return "\(place): filter rule \"\(text)\" has no pattern; write it as \"- PATTERN\" or \"+ PATTERN\""
        }
    }
}

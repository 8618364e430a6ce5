/// What a matching rule does with a path.
public enum FilterAction: String, Sendable, Hashable {
    /// `+ PATTERN` / `include PATTERN`: the path is replicated.
    case include = "+"
    /// `- PATTERN` / `exclude PATTERN`: the path is not replicated.
    case exclude = "-"
}

/// Where a rule came from, so that every decision can be traced back to it.
public enum RuleSource: Sendable, Hashable, CustomStringConvertible {
    /// A line of a rules file.
    case file(path: String, line: Int)
    /// A rule the tool adds itself, with the reason in a sysadmin's words.
    case builtIn(reason: String)

    /// `rules.conf:3` or `built-in: <reason>`.
    public var description: String {
        switch self {
        case let .file(path, line): return "\(path):\(line)"
        case let .builtIn(reason): return "built-in: \(reason)"
        }
    }
}

/// One include/exclude rule with its origin.
public struct FilterRule: Sendable, Hashable, CustomStringConvertible {
    public let action: FilterAction
    public let pattern: FilterPattern
    public let source: RuleSource

    /// Creates a rule.
    /// - Parameters:
    ///   - action: include or exclude.
    ///   - pattern: the rsync pattern text (see `FilterPattern`).
    ///   - source: the file and line, or the built-in reason.
    public init(_ action: FilterAction, _ pattern: String, source: RuleSource) {
        self.action = action
        self.pattern = FilterPattern(pattern)
        self.source = source
    }

    /// Whether the rule applies to a path (see `FilterPattern.matches(_:isDirectory:)`).
    public func matches(_ path: String, isDirectory: Bool) -> Bool {
        pattern.matches(path, isDirectory: isDirectory)
    }

    /// `matches(_:isDirectory:)` on UTF-8 bytes converted once by the caller.
    public func matches(utf8 path: [UInt8], isDirectory: Bool) -> Bool {
        pattern.matches(utf8: path, isDirectory: isDirectory)
    }

    /// The rule as written, quoted, then its source: `"- *.lock" (rules.conf:3)`.
    public var description: String {
        "\"\(action.rawValue) \(pattern.text)\" (\(source))"
    }
}

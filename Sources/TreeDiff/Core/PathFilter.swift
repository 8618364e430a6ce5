/// Decides whether a path inside a mirrored tree is replicated.
///
/// Paths are relative to the mirror root (`--root`), `/`-separated, with no leading `/`,
/// for example `etc/webmin/server-manager/12.serv`. The scanner asks once per entry,
/// parents before children, and does not descend into an excluded directory.
public protocol PathFilter: Sendable {
    /// Decides one path.
    /// - Parameters:
    ///   - path: the path relative to the mirror root.
    ///   - isDirectory: whether the entry is a directory (rules ending in `/` match only these).
    /// - Returns: whether the path is replicated, and which rule decided.
    func decide(_ path: String, isDirectory: Bool) -> FilterDecision
}

/// The outcome of a `PathFilter` for one path.
public struct FilterDecision: Sendable, Hashable, CustomStringConvertible {
    /// Whether the path is replicated.
    public var included: Bool
    /// The rule that decided, in words a user recognises (`"- *.lock" (rules.conf:3)`,
    /// `built-in: master's own status`); `nil` when no rule matched and the default applied.
    public var rule: String?

    public init(included: Bool, rule: String?) {
        self.included = included
        self.rule = rule
    }

    /// No rule matched: the path is replicated.
    public static let defaultInclude = FilterDecision(included: true, rule: nil)

    public var description: String {
        let verdict = included ? "replicated" : "excluded"
        return rule.map { "\(verdict) by \($0)" } ?? "\(verdict) (no rule matched)"
    }
}

/// A filter that replicates everything.
public struct IncludeEverything: PathFilter {
    public init() {}
    public func decide(_ path: String, isDirectory: Bool) -> FilterDecision { .defaultInclude }
}

/// The filter a mirror run uses: the built-in Cloudmin exclusions first (what must never
/// leave the master), then the user's rules; first match wins, no match means replicated.
public struct CloudminFilter: PathFilter, Sendable, Hashable {
    /// What decided a path.
    public enum Decider: Sendable, Hashable {
        case builtIn(CloudminExclusion)
        case user(FilterRule)
    }

    /// A decision with the rule behind it.
    public struct Explanation: Sendable, Hashable, CustomStringConvertible {
        public let decision: FilterDecision
        /// The deciding rule, `nil` when none matched.
        public let decider: Decider?
        /// The excluded ancestor directory that hides the path, when there is one.
        public let excludedAncestor: String?

        public var description: String {
            if let ancestor = excludedAncestor { return "\(decision) (inside \(ancestor)/)" }
            return decision.description
        }
    }

    public let builtIn: [CloudminExclusion]
    public let user: FilterList
    private let index: AnchorIndex

    /// Combines built-in exclusions and user rules.
    /// - Parameters:
    ///   - builtIn: from `CloudminRules.load(root:layout:)`; empty to turn them off.
    ///   - user: the user's rules, tried after the built-in ones.
    public init(builtIn: [CloudminExclusion], user: FilterList = FilterList()) {
        self.builtIn = builtIn
        self.user = user
        index = AnchorIndex(builtIn.map(\.rule.pattern))
    }

    /// Reads the master's records and builds the filter.
    /// - Throws: `CloudminError` (see `CloudminRules.load(root:layout:)`).
    public static func load(root: String, layout: CloudminLayout = CloudminLayout(),
                            user: FilterList = FilterList()) throws(CloudminError)
        -> (filter: CloudminFilter, warnings: [CloudminWarning])
    {
        let (rules, warnings) = try CloudminRules.load(root: root, layout: layout)
        return (CloudminFilter(builtIn: rules, user: user), warnings)
    }

    /// All rules in the order they are tried.
    public var rules: [FilterRule] { builtIn.map(\.rule) + user.rules }

    public func decide(_ path: String, isDirectory: Bool) -> FilterDecision {
        guard let decider = match(path, isDirectory: isDirectory) else { return .defaultInclude }
        return Self.decision(decider)
    }

    /// Explains one path as a scan reaches it: ancestors first, then the path itself.
    /// - Parameters:
    ///   - path: root-relative, `/`-separated, no leading `/`.
    ///   - isDirectory: whether the entry is a directory.
    public func explain(_ path: String, isDirectory: Bool) -> Explanation {
        let components = path.split(separator: "/")
        var prefix = ""
        for component in components.dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            guard let decider = match(prefix, isDirectory: true) else { continue }
            let decision = Self.decision(decider)
            if !decision.included {
                return Explanation(decision: decision, decider: decider, excludedAncestor: prefix)
            }
        }
        let decider = match(path, isDirectory: isDirectory)
        return Explanation(decision: decider.map(Self.decision) ?? .defaultInclude, decider: decider, excludedAncestor: nil)
    }

    private func match(_ path: String, isDirectory: Bool) -> Decider? {
        let bytes = Array(path.utf8)  // once for every rule
        if let i = index.firstMatch(bytes, isDirectory: isDirectory) {
            return .builtIn(builtIn[i])
        }
        return user.firstMatch(utf8: bytes, isDirectory: isDirectory).map(Decider.user)
    }

    private static func decision(_ decider: Decider) -> FilterDecision {
        switch decider {
        case let .builtIn(exclusion): return FilterDecision(included: false, rule: exclusion.rule.description)
        case let .user(rule): return FilterDecision(included: rule.action == .include, rule: rule.description)
        }
    }
}

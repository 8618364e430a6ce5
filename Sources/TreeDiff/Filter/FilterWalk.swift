extension PathFilter {
    /// Decides a path the way a scan reaches it: its ancestor directories are decided first,
    /// parents before children, and an excluded ancestor hides everything below it.
    /// - Parameters:
    ///   - path: root-relative, `/`-separated, no leading `/`.
    ///   - isDirectory: whether the entry itself is a directory.
    /// - Returns: the decision, and the excluded ancestor that made it when there is one.
    public func decideWithAncestors(_ path: String, isDirectory: Bool) -> (decision: FilterDecision, excludedAncestor: String?) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = ""
        for component in components.dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            let decision = decide(prefix, isDirectory: true)
            if !decision.included { return (decision, prefix) }
        }
        return (decide(path, isDirectory: isDirectory), nil)
    }
}

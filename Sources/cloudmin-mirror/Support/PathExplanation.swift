import Foundation
import TreeDiff

/// Whether one path is replicated and why, decided exactly as a scan would reach it: the path
/// must lie in a configured tree, its directories from the tree down must all be replicated
/// (an excluded directory hides everything below it), no symlink may stand on the way (links
/// are replicated as links, never followed), and then the first matching rule decides.
struct PathExplanation: Encodable {
    enum State: String, Encodable {
        /// The path is (or, if created, would be) replicated.
        case replicated
        /// A rule excludes the path or one of its directories.
        case excluded
        /// The path is in no configured tree: nothing there is ever replicated.
        case outsideTrees
        /// A symlink stands on the way: the link is replicated as a link, never followed.
        case belowSymlink
    }

    /// What is at the path under the root, as `lstat` sees it.
    enum Kind: String, Encodable {
        case file, directory, symlink, other, missing
    }

    /// The path as Cloudmin sees it (`/etc/webmin/server-manager/12.serv`).
    let path: String
    /// Root-relative, as rules match it.
    let relativePath: String
    let state: State
    let replicated: Bool
    let kind: Kind
    /// The configured tree holding the path.
    let tree: String?
    /// The deciding rule, with its source; nil when no rule matched.
    let rule: String?
    /// `builtIn` or `user`; nil when no rule matched.
    let ruleOrigin: String?
    /// The root-relative path whose decision applies: the path itself, an excluded ancestor
    /// directory, or the symlink on the way.
    let decidedAt: String?
    /// The excluded ancestor directory that hides the path.
    let excludedAncestor: String?
    /// The symlink on the way.
    let symlink: String?

    /// Explains a path.
    /// - Parameters:
    ///   - relative: root-relative, normalized (see `normalize(_:)`).
    ///   - wantsDirectory: the user wrote a trailing `/` (used when the path does not exist).
    ///   - inputs: the trees and filter of this host.
    static func explain(_ relative: String, wantsDirectory: Bool, inputs: ScanInputs) -> PathExplanation {
        let probe = Probe(root: inputs.root, path: relative)
        func make(_ state: State, _ decision: (decision: FilterDecision, decider: CloudminFilter.Decider?)? = nil,
                  tree: String?, at: String? = nil, ancestor: String? = nil) -> PathExplanation {
            let origin: String? = switch decision?.decider {
            case .builtIn: "builtIn"
            case .user: "user"
            case nil: nil
            }
            return PathExplanation(path: "/" + relative, relativePath: relative, state: state, replicated: state == .replicated,
                                   kind: probe.kind, tree: tree, rule: decision?.decision.rule, ruleOrigin: origin,
                                   decidedAt: at, excludedAncestor: ancestor, symlink: probe.symlink)
        }
        let trees = inputs.trees.filter(RelativePath.isValid)
        guard let tree = trees.first(where: { relative == $0 || RelativePath.isInside(relative, ancestor: $0) }) else {
            return make(.outsideTrees, tree: nil)
        }
        // Directories from the tree root down, as the scanner visits them.
        let below = relative.dropFirst(tree.count).split(separator: "/").map(String.init)
        var directory = tree
        for component in [""] + below.dropLast() {
            if !component.isEmpty { directory += "/" + component }
            if directory == probe.symlink {
                let decided = inputs.decide(directory, isDirectory: false)
                return decided.decision.included ? make(.belowSymlink, decided, tree: tree, at: directory)
                    : make(.excluded, decided, tree: tree, at: directory)
            }
            if directory == relative { break }
            let decided = inputs.decide(directory, isDirectory: true)
            if !decided.decision.included { return make(.excluded, decided, tree: tree, at: directory, ancestor: directory) }
        }
        let isDirectory = probe.kind == .directory || (probe.kind == .missing && wantsDirectory)
        let decided = inputs.decide(relative, isDirectory: isDirectory)
        return make(decided.decision.included ? .replicated : .excluded, decided, tree: tree, at: relative)
    }

    /// Turns a user's path (absolute as Cloudmin sees it, or root-relative) into a root-relative one.
    /// - Returns: the path and whether it ended in `/`.
    /// - Throws: `RelativePathError` for an empty path or one holding `..`.
    static func normalize(_ input: String) throws(RelativePathError) -> (path: String, wantsDirectory: Bool) {
        let parts = input.split(separator: "/").filter { $0 != "." }
        let path = parts.joined(separator: "/")
        try RelativePath.validate(path)
        return (path, input.hasSuffix("/"))
    }

    /// One line for people: `/etc/x: excluded by "- ..." (built-in: ...)`.
    /// - Parameter trees: the configured trees, root-relative, named when the path is in none.
    func line(trees: [String]) -> String {
        let shown = path + (kind == .directory ? "/" : "")
        let missing = kind == .missing ? " (not present under the root)" : ""
        let verdict = FilterDecision(included: replicated, rule: rule).description
        switch state {
        case .outsideTrees:
            return "\(shown): not replicated: in no configured tree (\(trees.map { "/" + $0 }.joined(separator: ", ")))\(missing)"
        case .belowSymlink:
            return "\(shown): not replicated: /\(symlink ?? "") is a symlink, replicated as a link and never followed"
        case .excluded where excludedAncestor != nil:
            return "\(shown): excluded: inside /\(excludedAncestor!)/, which is \(verdict)\(missing)"
        case .excluded where symlink != nil && decidedAt == symlink:
            return "\(shown): excluded: the symlink /\(symlink!) on its way is \(verdict)\(missing)"
        case .replicated, .excluded:
            return "\(shown): \(verdict)\(missing)"
        }
    }
}

/// What `lstat` finds at a root-relative path, walking down from the root without following
/// any symlink below it: the first symlink met on the way stops the walk.
private struct Probe {
    var kind: PathExplanation.Kind = .missing
    /// The first symlink strictly above the path, root-relative.
    var symlink: String?

    init(root: String, path: String) {
        var prefix = ""
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            var info = stat()
            guard lstat((root == "/" ? "" : root) + "/" + prefix, &info) == 0 else { kind = .missing; return }
            let isLast = index == components.count - 1
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = .directory
            case S_IFREG: kind = .file
            case S_IFLNK: kind = .symlink
            default: kind = .other
            }
            if isLast { return }
            if kind == .symlink { symlink = prefix; kind = .missing; return }
            if kind != .directory { kind = .missing; return }
        }
    }
}

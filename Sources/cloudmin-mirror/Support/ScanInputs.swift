import Foundation
import MirrorEngine
import TreeDiff

/// What a scan of this host works from: the root, the trees, and the filter (built-in Cloudmin
/// exclusions plus the user's rules), resolved from the configuration and the command line.
struct ScanInputs {
    /// The mirror root on this machine (`/` unless `--root`).
    let root: String
    /// Root-relative trees, as configured.
    let trees: [String]
    let filter: CloudminFilter
    /// Records the built-in rules could not use.
    let warnings: [CloudminWarning]
    /// The rules file actually read (a host path), if any.
    let rulesFile: String?

    /// Resolves the inputs.
    /// - Parameters:
    ///   - context: the host's configuration under `--root`.
    ///   - rulesOption: `--rules FILE`, a path on this machine (not remapped under the root);
    ///     when nil, the configuration's `rules` file under the root is read if it exists.
    ///   - builtinRules: `--builtin-rules` / `--no-builtin-rules`; nil follows `builtin_rules`.
    /// - Throws: `FilterError` for a bad rules file, `CloudminError` when the built-in rules
    ///   cannot be built (invalid layout, unreadable root).
    static func load(context: MirrorContext, rulesOption: String?, builtinRules: Bool?) throws -> ScanInputs {
        let exclusions = try context.exclusionFilter(rulesFile: rulesOption, builtinRules: builtinRules)
        return ScanInputs(root: context.paths.rootDirectory, trees: context.trees, filter: exclusions.filter,
                          warnings: exclusions.warnings, rulesFile: exclusions.rulesFile)
    }

    /// The same filter decision the scanner makes for one path, with what decided it.
    /// - Parameters:
    ///   - path: root-relative.
    ///   - isDirectory: whether the entry is a directory.
    func decide(_ path: String, isDirectory: Bool) -> (decision: FilterDecision, decider: CloudminFilter.Decider?) {
        let decision = filter.decide(path, isDirectory: isDirectory)
        if let exclusion = filter.builtIn.first(where: { $0.rule.matches(path, isDirectory: isDirectory) }) {
            return (decision, .builtIn(exclusion))
        }
        return (decision, filter.user.firstMatch(path, isDirectory: isDirectory).map { .user($0) })
    }
}

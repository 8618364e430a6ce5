import ArgumentParser
import Foundation
import TreeDiff

/// `cloudmin-mirror scan`: what a mirror run would replicate from this host, and why each
/// excluded path is left out.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List what would be replicated from the Cloudmin trees, and what is excluded by which rule.",
        discussion: """
        Scans the configured trees under --root (nothing is written) and prints one line per \
        replicated entry, the excluded paths with the rule that excluded each, and a summary. \
        With --explain PATH, says only whether PATH is replicated and which rule decided. \
        Exit status: 0 on success (whether PATH is replicated or not), 64 for bad arguments, \
        78 for a bad configuration or rules file, 66 when the root or a tree cannot be \
        opened or no configured tree exists.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp(
        "rsync-style filter rules (a path on this machine, not under --root); default: the configuration's `rules` file, if it exists.",
        valueName: "file"))
    var rules: String?

    @Flag(inversion: .prefixedNo, help: "Apply the built-in Cloudmin exclusions (default: the configuration's `builtin_rules`).")
    var builtinRules: Bool?

    @Flag(name: .long, help: "Print one JSON object (root-relative paths) instead of the listing.")
    var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Say whether this path (as Cloudmin sees it, e.g. /etc/webmin/server-manager/12.serv, or root-relative) is replicated, and why.",
        valueName: "path"))
    var explain: String?

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: global.root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--root \(global.root) is not a directory; give the directory that holds the master's trees")
        }
        if let rules, rules.isEmpty { throw ValidationError("--rules needs a file name") }
        if let explain {
            do { _ = try PathExplanation.normalize(explain) } catch {
                throw ValidationError("--explain \(explain): give a path inside the root, without `..`, such as /etc/webmin/server-manager/12.serv")
            }
        }
    }

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            let inputs = try ScanInputs.load(context: context, rulesOption: rules, builtinRules: builtinRules)
            inputs.warnings.forEach { Output.warning($0.description) }
            if let explain {
                let (path, wantsDirectory) = try PathExplanation.normalize(explain)
                let explanation = PathExplanation.explain(path, wantsDirectory: wantsDirectory, inputs: inputs)
                if json { try Output.printJSON(explanation) } else { print(explanation.line(trees: inputs.trees)) }
                return
            }
            let result = try Scanner(root: inputs.root, trees: inputs.trees, filter: inputs.filter).scan()
            result.warnings.forEach { Output.warning($0.description) }
            if result.manifest.count == 0, result.excluded.isEmpty, result.warnings.contains(where: { $0.code == .treeMissing }) {
                throw NoTreeFound(root: inputs.root, trees: inputs.trees)
            }
            if json {
                try Output.printJSON(ScanReport(root: inputs.root, trees: inputs.trees, result: result, ruleWarnings: inputs.warnings))
            } else {
                ManifestListing.lines(result, summary: ScanSummary(result)).forEach { print($0) }
            }
        }
    }
}

import TreeDiff

/// The `--json` form of a scan: one object a script can read without parsing the listing.
///
/// Paths are root-relative, as in manifests and filter rules (`etc/webmin/server-manager/12.serv`);
/// `entries` are the manifest's entries in manifest order (see `ManifestEntry`'s Codable form).
struct ScanReport: Encodable {
    /// The mirror root on this machine.
    let root: String
    let trees: [String]
    let formatVersion: UInt16
    let treeDigest: String
    let entries: [ManifestEntry]
    let excluded: [Excluded]
    let warnings: [Warning]
    let stats: ScanSummary

    /// A path the filter kept out of the manifest (an excluded directory's contents are not listed).
    struct Excluded: Encodable {
        let path: String
        let isDirectory: Bool
        /// The deciding rule as written, with its source: `"- *.lock" (built-in: ...)`.
        let rule: String
    }

    /// A warning from the built-in rules (`source` = `rules`) or the scan (`source` = `scan`).
    struct Warning: Encodable {
        let source: String
        let code: String
        let path: String
        let message: String
    }

    init(root: String, trees: [String], result: ScanResult, ruleWarnings: [CloudminWarning]) {
        self.root = root
        self.trees = trees
        formatVersion = Manifest.formatVersion
        treeDigest = result.manifest.treeDigest.description
        entries = result.manifest.entries
        excluded = result.excluded.map { Excluded(path: $0.path, isDirectory: $0.isDirectory, rule: $0.decision.rule ?? "") }
        warnings = ruleWarnings.map { Warning(source: "rules", code: $0.code.rawValue, path: $0.path, message: $0.description) }
            + result.warnings.map { Warning(source: "scan", code: Self.code($0.code), path: $0.path, message: $0.description) }
        stats = ScanSummary(result)
    }

    /// A stable name for a scan warning code.
    static func code(_ code: ScanWarning.Code) -> String {
        switch code {
        case .specialFileSkipped: "specialFileSkipped"
        case .unreadable: "unreadable"
        case .changedDuringRead: "changedDuringRead"
        case .treeMissing: "treeMissing"
        case .invalidName: "invalidName"
        }
    }
}

import Foundation
import TreeDiff

/// Everything a command needs to know about this host: the root it works under, the
/// configuration, and where state lives. Built once per command from the global options.
public struct MirrorContext: Sendable {
    public let paths: HostPaths
    /// The configuration file (its defaults when the file does not exist yet).
    public let configFile: ConfigFile
    public var config: MirrorConfig { configFile.config }

    /// Loads the configuration under `root`.
    /// - Parameters:
    ///   - root: the global `--root` (default `/`).
    ///   - configPath: the global `--config`, an absolute path as seen under the root; nil for
    ///     the default. A missing default file means all defaults; a missing named file is an error.
    /// - Throws: `ConfigError` naming the file and line.
    public init(root: String = "/", configPath: String? = nil) throws(ConfigError) {
        paths = HostPaths(root: root)
        let shown = configPath ?? MirrorConfig.defaultPath
        let host = paths.host(shown)
        if configPath == nil && !FileManager.default.fileExists(atPath: host) {
            configFile = try ConfigFile(text: "", path: shown, hostPath: host)
        } else {
            configFile = try ConfigFile.load(hostPath: host, displayPath: shown)
        }
    }

    /// The state directory on this machine.
    public var stateDirectory: String { paths.host(config.stateDir) }

    /// Root-relative trees, as manifests and filter rules name them.
    public var trees: [String] { config.trees.map(HostPaths.relative) }

    /// Cloudmin's layout as configured, root-relative.
    public var layout: CloudminLayout {
        var layout = CloudminLayout()
        layout.configDirectory = HostPaths.relative(config.cloudminConfigDir)
        layout.collectedDirectory = HostPaths.relative(config.collectedDir)
        layout.imageStore = HostPaths.relative(config.imageStore)
        layout.masterSettingsFile = layout.configDirectory + "/this"
        layout.imageRecordsDirectory = layout.configDirectory + "/images"
        return layout
    }

    /// Creates the state directory (mode 0700) when missing.
    public func ensureStateDirectory() throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    /// The run lock that keeps mirror runs and replica commits from overlapping.
    public func lock(waitSeconds: Double = 0, onWait: ((RunLock.Busy) -> Void)? = nil) throws -> RunLock {
        try ensureStateDirectory()
        return try RunLock(path: stateDirectory + "/lock", waitSeconds: waitSeconds, onWait: onWait)
    }
}

/// The exclusion filter a scan of this host uses: the built-in Cloudmin rules (unless turned
/// off), then the user's rsync-style rules.
public struct ExclusionFilter: Sendable {
    public let filter: CloudminFilter
    /// Records the built-in rules could not use.
    public let warnings: [CloudminWarning]
    /// The rules file that was read (a path on this machine), if any.
    public let rulesFile: String?
}

extension MirrorContext {
    /// Builds the exclusion filter: what `sync`, `scan` and the demo all scan with.
    /// - Parameters:
    ///   - rulesFile: a rules file on this machine (not remapped); nil reads the configured
    ///     `rules` file under the root when it exists.
    ///   - builtinRules: overrides the configured `builtin_rules`.
    /// - Throws: `FilterError` for a bad rules file, `CloudminError` when the built-in rules
    ///   cannot be built.
    public func exclusionFilter(rulesFile: String? = nil, builtinRules: Bool? = nil) throws -> ExclusionFilter {
        var path = rulesFile
        if path == nil {
            let configured = paths.host(config.rulesFile)
            if FileManager.default.fileExists(atPath: configured) { path = configured }
        }
        let user = try path.map { p throws(FilterError) in try FilterList.load(contentsOf: p) } ?? FilterList()
        guard builtinRules ?? config.builtinRules else {
            return ExclusionFilter(filter: CloudminFilter(builtIn: [], user: user), warnings: [], rulesFile: path)
        }
        let (filter, warnings) = try CloudminFilter.load(root: paths.rootDirectory, layout: layout, user: user)
        return ExclusionFilter(filter: filter, warnings: warnings, rulesFile: path)
    }
}

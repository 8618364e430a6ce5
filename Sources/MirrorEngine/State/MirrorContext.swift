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

import ArgumentParser
import MirrorEngine

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Remap every tree and state path under this directory.", valueName: "dir"))
    var root: String = "/"

    @Option(name: .long, help: ArgumentHelp("Configuration file, as an absolute path under --root (default \(MirrorConfig.defaultPath)).", valueName: "file"))
    var config: String?

    func validate() throws {
        guard root.hasPrefix("/") else { throw ValidationError("--root must be an absolute path, got `\(root)`") }
        if let config, !config.hasPrefix("/") {
            throw ValidationError("--config must be an absolute path (under --root), got `\(config)`")
        }
    }

    /// Loads the configuration and paths for this host.
    func context() throws -> MirrorContext {
        try MirrorContext(root: root, configPath: config)
    }
}

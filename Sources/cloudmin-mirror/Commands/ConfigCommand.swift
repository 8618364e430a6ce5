import ArgumentParser
import MirrorEngine

/// `cloudmin-mirror config`: check the configuration file, or print the documented default.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration file and show the settings in force, or print the documented default file."
    )
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the documented default configuration file.") var printDefault = false

    func run() throws {
        try CommandFailure.reporting {
            if printDefault {
                print(ConfigFile.defaultText, terminator: "")
                return
            }
            let context = try global.context()
            let c = context.config
            print("# \(context.configFile.path): OK")
            for tree in c.trees { print("tree = \(tree)") }
            print("""
            cloudmin_config_dir = \(c.cloudminConfigDir)
            collected_dir = \(c.collectedDir)
            image_store = \(c.imageStore)
            rules = \(c.rulesFile)
            builtin_rules = \(c.builtinRules ? "yes" : "no")
            state_dir = \(c.stateDir)
            interval = \(c.intervalSeconds)s
            identity = \(c.identity)
            known_hosts = \(c.knownHosts)
            compression_level = \(c.compressionLevel)
            """)
            for r in c.replicas {
                print("[replica \(r.name)] host = \(r.host), port = \(r.port), user = \(r.user)" + (r.hostKey.map { ", host_key = \($0)" } ?? ""))
            }
        }
    }
}

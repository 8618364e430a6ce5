import ArgumentParser
import MirrorEngine

/// `cloudmin-mirror replica ...`: this host's side of replication.
struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Set up and serve this host as a read-only replica.",
        subcommands: [ReplicaInitCommand.self, ReplicaSetMasterCommand.self, ReplicaServeCommand.self, ReplicaPromoteCommand.self]
    )
}

/// Options shared by `replica init` and `replica set-master`.
struct MasterKeyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The master's replication public key (an OpenSSH .pub file).", valueName: "file.pub"))
    var masterKey: String

    @Option(name: .long, help: ArgumentHelp("authorized_keys file to edit, as a path on this machine (default /root/.ssh/authorized_keys under --root).", valueName: "file"))
    var authorizedKeys: String?

    @Option(name: .long, help: ArgumentHelp("Path of cloudmin-mirror for the forced command (default: this program).", valueName: "path"))
    var serveCommand: String?

    @Option(name: .long, help: ArgumentHelp("Where the master answers (HOST[:PORT], SSH port, default 22), so `replica promote` can check it is gone.", valueName: "host[:port]"))
    var masterHost: String?

    func validate() throws {
        if let masterHost {
            do { _ = try MasterAddress(parsing: masterHost) } catch { throw ValidationError("--master-host: \(error)") }
        }
        if let serveCommand, !serveCommand.hasPrefix("/") {
            throw ValidationError("--serve-command must be an absolute path, got `\(serveCommand)`")
        }
        if let authorizedKeys, !authorizedKeys.hasPrefix("/") {
            throw ValidationError("--authorized-keys must be an absolute path, got `\(authorizedKeys)`")
        }
    }
}

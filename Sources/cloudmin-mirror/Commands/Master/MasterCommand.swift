import ArgumentParser
import MirrorEngine

/// `cloudmin-mirror master ...`: set this host up as a master and manage its replicas.
struct MasterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Set this host up as a master and manage its replicas.",
        subcommands: [MasterKeyCommand.self, AddReplicaCommand.self, RemoveReplicaCommand.self, MasterDisableCommand.self]
    )
}

/// `master key`: print (creating when missing) the master's replication public key.
struct MasterKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print the master's replication public key (created when missing), for `replica init --master-key`."
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try CommandFailure.reporting {
            let key = try MasterSetup.ensureKey(try global.context())
            print(key.line)
            Output.standardError("fingerprint \(key.fingerprint); copy this line to each replica and run `cloudmin-mirror replica init --master-key FILE.pub` there")
        }
    }
}

/// `master add-replica NAME --host H`: pin, check, save, then the initial full copy.
struct AddReplicaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-replica",
        abstract: "Add a replica: pin its host key, check it is a replica of this master, save it, make the initial copy."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A name for the replica (letters, digits, '.', '_', '-').") var name: String
    @Option(help: "Host name or address of the replica.") var host: String
    @Option(help: "SSH port.") var port: Int = 22
    @Option(help: "User to log in as.") var user: String = "root"
    @Option(help: ArgumentHelp("Private key for this replica (default: the config's identity).", valueName: "file")) var identity: String?
    @Option(name: .customLong("host-key"), help: ArgumentHelp("Expected host key fingerprint (SHA256:...), as `ssh-keygen -lf` prints it on the replica.", valueName: "fingerprint"))
    var hostKey: String?
    @Flag(help: "Save the replica but skip the initial copy.") var noCopy = false
    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        if let hostKey, !hostKey.hasPrefix("SHA256:") { throw ValidationError("--host-key must be an OpenSSH SHA256 fingerprint like SHA256:abc...") }
        if let identity, !identity.hasPrefix("/") { throw ValidationError("--identity must be an absolute path") }
    }

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            let replica = ReplicaConfig(name: name, host: host, port: port, user: user, identity: identity)
            let updated = try MasterSetup.addReplica(context, replica, expectedHostKey: hostKey) { Output.standardError($0) }
            print("replica \(name) added to \(updated.configFile.path)")
            guard !noCopy else { return }
            var options = RunOptions()
            options.replicas = [name]
            let renderer = progress.install(on: &options)
            let result = try MirrorRun(context: updated, log: ProgressRenderer.log(through: renderer)).run(options)
            try reportRun(result, itemize: false)
        }
    }
}

/// `master remove-replica NAME`.
struct RemoveReplicaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-replica",
        abstract: "Stop replicating to a replica and forget it (the replica keeps what it has)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The replica's name.") var name: String

    func run() throws {
        try CommandFailure.reporting {
            try MasterSetup.removeReplica(try global.context(), name: name)
            print("replica \(name) removed")
        }
    }
}

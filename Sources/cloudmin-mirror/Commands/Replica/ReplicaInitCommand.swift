import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror replica init --master-key FILE.pub`.
struct ReplicaInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make this host a read-only replica that accepts replication only from the master's key.",
        discussion: """
        Installs the key in root's authorized_keys with `restrict` and a forced command, so the \
        key can do nothing but replication, and records the replica role.
        """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: MasterKeyOptions

    @Flag(name: .long, help: "Start over even if this host already replicates another master.")
    var force = false

    func run() async throws {
        let context = try global.context()
        let masterKey = try PublicKey(file: key.masterKey)
        let outcome = try ReplicaSetup.initialize(
            context: context, key: masterKey,
            authorizedKeys: key.authorizedKeys.map(AuthorizedKeys.init(path:)) ?? .rootDefault(paths: context.paths),
            executable: try key.serveCommand ?? ReplicaSetup.currentExecutable(),
            root: global.root, config: global.config, force: force, masterHost: key.masterHost)
        print("This host is now a replica of master \(masterKey.fingerprint).")
        if let previous = outcome.previousMaster, previous != masterKey.fingerprint {
            print("It no longer accepts the previous master \(previous).")
        }
        print("The master's key is installed in \(outcome.authorizedKeys) (replication only).")
        print("Next, on the master: cloudmin-mirror master add-replica NAME --host \(ProcessInfo.processInfo.hostName)")
    }
}

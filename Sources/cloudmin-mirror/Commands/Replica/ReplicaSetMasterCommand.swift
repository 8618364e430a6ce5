import ArgumentParser
import MirrorEngine

/// `cloudmin-mirror replica set-master --master-key FILE.pub`.
struct ReplicaSetMasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-master",
        abstract: "Accept a new master on this replica (after a failover), keeping what it holds.",
        discussion: "Replaces the old master's key entry in authorized_keys; the old master is refused from now on."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: MasterKeyOptions

    func run() async throws {
        let context = try global.context()
        let masterKey = try PublicKey(file: key.masterKey)
        let outcome = try ReplicaSetup.setMaster(
            context: context, key: masterKey,
            authorizedKeys: key.authorizedKeys.map(AuthorizedKeys.init(path:)) ?? .rootDefault(paths: context.paths),
            executable: try key.serveCommand ?? ReplicaSetup.currentExecutable(),
            root: global.root, config: global.config, masterHost: key.masterHost)
        print("This replica now accepts master \(masterKey.fingerprint) (was \(outcome.previousMaster ?? "none")).")
        print("The key is installed in \(outcome.authorizedKeys) (replication only).")
    }
}

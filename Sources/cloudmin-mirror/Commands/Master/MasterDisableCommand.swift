import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror master disable`: stop replicating from an old master.
struct MasterDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Stop replicating from this master (after a failover), optionally making it a replica of the new master.",
        discussion: """
        Waits for a run in progress, then marks replication off: `sync` and scheduled runs refuse. \
        Its trees and its replicas are left as they are. With --become-replica-of, this host \
        becomes a read-only replica of the new master instead (as `replica init --force`); the \
        new master's `add-replica` then sends only what differs.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("become-replica-of"), help: ArgumentHelp("The new master's replication key: become its replica.", valueName: "file.pub"))
    var newMasterKey: String?

    @Option(name: .long, help: ArgumentHelp("With --become-replica-of: where the new master answers (HOST[:PORT]).", valueName: "host[:port]"))
    var masterHost: String?

    @Option(name: .long, help: ArgumentHelp("With --become-replica-of: authorized_keys to edit (default /root/.ssh/authorized_keys under --root).", valueName: "file"))
    var authorizedKeys: String?

    @Option(name: .long, help: ArgumentHelp("With --become-replica-of: path of cloudmin-mirror for the forced command (default: this program).", valueName: "path"))
    var serveCommand: String?

    @Flag(name: .long, help: "Turn replication back on.")
    var undo = false

    func validate() throws {
        if undo && newMasterKey != nil { throw ValidationError("--undo and --become-replica-of cannot be used together") }
        if newMasterKey == nil && (masterHost != nil || authorizedKeys != nil || serveCommand != nil) {
            throw ValidationError("--master-host, --authorized-keys and --serve-command go with --become-replica-of")
        }
        for (name, value) in [("--authorized-keys", authorizedKeys), ("--serve-command", serveCommand)] {
            if let value, !value.hasPrefix("/") { throw ValidationError("\(name) must be an absolute path, got `\(value)`") }
        }
        if let masterHost {
            do { _ = try MasterAddress(parsing: masterHost) } catch { throw ValidationError("--master-host: \(error)") }
        }
    }

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            guard let newMasterKey else {
                _ = try MasterDisable.disable(context: context, undo: undo)
                print(undo ? "Replication is on again on this master."
                           : "Replication is off on this master: runs refuse from now on. Its trees and replicas are left as they are.")
                return
            }
            let key = try PublicKey(file: newMasterKey)
            let outcome = try MasterDisable.becomeReplica(
                context: context, key: key,
                authorizedKeys: authorizedKeys.map(AuthorizedKeys.init(path:)) ?? .rootDefault(paths: context.paths),
                executable: try serveCommand ?? ReplicaSetup.currentExecutable(),
                root: global.root, config: global.config, masterHost: masterHost)
            print("This host no longer sends; it is now a read-only replica of master \(key.fingerprint).")
            print("The new master's key is installed in \(outcome.authorizedKeys) (replication only).")
            print("Next, on the new master: cloudmin-mirror master add-replica NAME --host \(ProcessInfo.processInfo.hostName) (only the difference is sent)")
        }
    }
}

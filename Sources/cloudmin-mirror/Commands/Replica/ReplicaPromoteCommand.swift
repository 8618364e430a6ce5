import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror replica promote`: failover, this replica becomes the master.
struct ReplicaPromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Make this replica the master (its master is gone), keeping its last complete generation.",
        discussion: """
        Finishes or rolls back an interrupted commit, checks that the old master recorded with \
        --master-host no longer answers, continues the lineage and generation this replica holds \
        (so the other replicas accept the new master after `replica set-master`), makes the \
        replication key, and removes the old master's key from authorized_keys.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Promote even if the old master still answers, or this replica never completed a generation.")
    var force = false

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the old master's SSH port.", valueName: "seconds"))
    var timeout: Double = Promotion.defaultProbeTimeout

    @Option(name: .long, help: ArgumentHelp("authorized_keys holding the old master's entry (default /root/.ssh/authorized_keys under --root).", valueName: "file"))
    var authorizedKeys: String?

    func validate() throws {
        guard timeout > 0, timeout <= 120 else { throw ValidationError("--timeout must be between 0 and 120 seconds") }
        if let authorizedKeys, !authorizedKeys.hasPrefix("/") {
            throw ValidationError("--authorized-keys must be an absolute path, got `\(authorizedKeys)`")
        }
    }

    func run() async throws {
        try CommandFailure.reporting {
            let context = try global.context()
            let outcome = try Promotion.promote(
                context: context, force: force, probeTimeout: timeout,
                authorizedKeys: authorizedKeys.map(AuthorizedKeys.init(path:)) ?? .rootDefault(paths: context.paths))
            switch outcome.recovery {
            case .rolledBack: print("An interrupted commit was rolled back first.")
            case .rolledForward: print("An interrupted commit was finished first.")
            case .none: break
            }
            if let address = outcome.oldMasterAddress {
                if outcome.oldMasterAnswered {
                    Output.warning("the old master \(address) still answers; promoted anyway (--force). Run `cloudmin-mirror master disable` there as soon as you can")
                } else {
                    print("The old master \(address) does not answer.")
                }
            } else {
                Output.warning("no old master address was recorded (`replica init --master-host`); could not check that it is gone")
            }
            print("This host is now the master: lineage \(outcome.lineage), generation \(outcome.generation).")
            if outcome.removedOldMasterAccess { print("The old master's key was removed from authorized_keys.") }
            let root = global.root == "/" ? "" : " --root \(global.root)"
            print("""
            Next steps:
              1. cloudmin-mirror master key\(root) > /tmp/new-master.pub      (fingerprint \(outcome.key.fingerprint))
              2. on each other replica: cloudmin-mirror replica set-master --master-key /tmp/new-master.pub --master-host THIS-HOST
              3. here, for each of them: cloudmin-mirror master add-replica NAME --host HOST --host-key SHA256:...
                 (a replica of the same lineage gets only the difference)
              4. on the old master, if it comes back: cloudmin-mirror master disable --become-replica-of /tmp/new-master.pub
            """)
        }
    }
}

import ArgumentParser
import MirrorEngine

/// `cloudmin-mirror replica serve`: the forced command of the master's key (not run by hand).
struct ReplicaServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one SSH connection of the master's key (the authorized_keys forced command).",
        shouldDisplay: false
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Fingerprint of the key sshd accepted (written by `replica init`).", valueName: "SHA256:..."))
    var masterFingerprint: String

    func validate() throws {
        guard masterFingerprint.hasPrefix("SHA256:") else {
            throw ValidationError("--master-fingerprint must be a SHA256: fingerprint, got `\(masterFingerprint)`")
        }
    }

    func run() async throws {
        let context = try global.context()
        try ServeDispatch.serveSSHConnection(context: context, masterFingerprint: masterFingerprint)
    }
}

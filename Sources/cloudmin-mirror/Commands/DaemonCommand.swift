import ArgumentParser
import Foundation
import Logging
import MirrorEngine

/// `cloudmin-mirror daemon`: scheduled mirror runs, in the foreground, for systemd.
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run a mirror run after each status collection, or every interval, until stopped.",
        discussion: """
        Watches the collected-status directory (or the `collection_marker` file of the \
        configuration) and starts a run once writes there have settled, or when `interval` \
        seconds (default 300) have passed since the last run, whichever comes first. Runs never \
        overlap, with each other or with a manual `sync`: a busy lock is retried at the next tick.

        Logs one line per replica per run and one per error on stderr (the journal under systemd); \
        rewrites the `metrics_file` of the configuration (Prometheus text format) after every run.

        SIGTERM or SIGINT: finish the current run, then exit 0; a second one abandons the run (the \
        replica keeps what was staged for the next run). SIGHUP: reread the configuration before \
        the next run (a bad file is reported and the old configuration kept).

        `cloudmin-mirror install-service` writes a systemd unit that starts it at boot.
        """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Seconds the collection must stay unchanged before a run starts.", valueName: "seconds"))
    var settle: Double = 5
    @Option(help: ArgumentHelp("Seconds between two looks at the collection.", valueName: "seconds"))
    var tick: Double = 1

    func validate() throws {
        guard settle >= 0 else { throw ValidationError("--settle must be 0 or more seconds, got \(settle)") }
        guard tick > 0 else { throw ValidationError("--tick must be more than 0 seconds, got \(tick)") }
    }

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            let logger = Logger(label: "cloudmin-mirror")
            let control = DaemonControl()
            let signals = DaemonSignals(control: control, onSignal: { sig in
                let name = sig == SIGHUP ? "SIGHUP" : sig == SIGINT ? "SIGINT" : "SIGTERM"
                Logger(label: "cloudmin-mirror").notice("signal received", metadata: ["signal": "\(name)"])
            }, abandon: {
                Logger(label: "cloudmin-mirror").warning("abandoning the current run; what was staged stays for the next run")
                _exit(0)
            })
            var settings = DaemonSettings()
            settings.settleSeconds = settle
            settings.tickSeconds = tick
            let (root, config) = (global.root, global.config)
            let daemon = Daemon(context: context,
                                reloadContext: { () throws(ConfigError) in try MirrorContext(root: root, configPath: config) },
                                control: control, settings: settings, logger: logger)
            withExtendedLifetime(signals) { daemon.run() }
        }
    }
}

import TreeDiff
import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror install-service [--print]`: the systemd unit for `cloudmin-mirror daemon`.
struct InstallServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-service",
        abstract: "Write the systemd unit that starts `cloudmin-mirror daemon` at boot.",
        discussion: """
        Writes \(ServiceUnit.installPath) (under --root), running this binary as \
        `daemon` with the same --root and --config. Then run \
        `systemctl daemon-reload && systemctl enable --now cloudmin-mirror`.

        Without systemd, use cron instead: put this line in /etc/cron.d/cloudmin-mirror
          \(ServiceUnit.cronAlternative)
        (runs never overlap: `--wait` lets a run wait up to 4 minutes for the previous one).
        """
    )
    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("print"), help: "Print the unit on stdout instead of installing it.") var printOnly = false
    @Option(help: ArgumentHelp("The cloudmin-mirror binary the unit runs (default: this one).", valueName: "path"))
    var binary: String?
    @Option(help: ArgumentHelp("Seconds systemd lets a run finish after SIGTERM before killing it.", valueName: "seconds"))
    var stopTimeout: Int = 300

    func validate() throws {
        if let binary, !binary.hasPrefix("/") { throw ValidationError("--binary must be an absolute path, got `\(binary)`") }
        guard stopTimeout > 0 else { throw ValidationError("--stop-timeout must be more than 0 seconds") }
    }

    func run() throws {
        try CommandFailure.reporting {
            let unit = ServiceUnit(binary: binary ?? Self.currentBinary(), root: global.root, config: global.config,
                                   stopTimeoutSeconds: stopTimeout)
            if printOnly {
                print(unit.text, terminator: "")
                return
            }
            let path = HostPaths(root: global.root).host(ServiceUnit.installPath)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try AtomicFile.write(Array(unit.text.utf8), to: path, mode: [.ownerReadWrite, .groupRead, .otherRead])
            print("wrote \(path)")
            print("now run: systemctl daemon-reload && systemctl enable --now cloudmin-mirror")
        }
    }

    /// This executable's absolute path (`/proc/self/exe`, else argv[0] made absolute).
    static func currentBinary() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

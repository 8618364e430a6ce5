import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror sync [NAME...]`: one mirror run now.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Run one mirror run now, to all replicas or the named ones."
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var progress: ProgressOptions
    @Argument(help: "Replica names (default: all).") var names: [String] = []
    @Flag(help: "Show what would change; send and commit nothing.") var dryRun = false
    @Flag(help: "List each change like rsync --itemize-changes.") var itemize = false
    @Flag(help: "Ask each replica for its own manifest instead of trusting the master's record.") var catchUp = false
    @Option(help: ArgumentHelp("Wait this many seconds for a run in progress instead of refusing.", valueName: "seconds")) var wait: Double = 0

    func run() throws {
        try CommandFailure.reporting {
            var options = RunOptions()
            options.replicas = names
            options.dryRun = dryRun
            options.itemize = itemize
            options.forceManifest = catchUp
            options.waitSeconds = wait
            let renderer = progress.install(on: &options)
            let result = try MirrorRun(context: try global.context(), log: ProgressRenderer.log(through: renderer)).run(options)
            try reportRun(result, itemize: itemize || dryRun)
        }
    }
}

/// Prints a run's outcome, one block per replica; exits non-zero naming failed replicas.
func reportRun(_ result: RunResult, itemize: Bool) throws {
    for w in result.warnings { Output.warning(w) }
    for r in result.replicas {
        if itemize { for line in r.itemized { print(line) } }
        let s = r.summary
        if let error = r.error {
            print("\(r.name): FAILED after \(String(format: "%.2f", r.seconds))s: \(error)")
        } else if r.upToDate {
            print("\(r.name): up to date at generation \(r.generation) (\(r.bytesSent) bytes, \(String(format: "%.2f", r.seconds))s)")
        } else {
            print("\(r.name): generation \(r.previousGeneration) -> \(r.generation): \(s.newFiles) new, \(s.changedFiles) changed, \(s.deletions) deleted, \(s.metadataOnly) metadata; sent \(r.filesSent) whole + \(r.deltasSent) deltas, \(r.bytesSent) bytes on the channel\(r.resumedBytes > 0 ? ", \(r.resumedBytes) bytes resumed" : "")\(r.fetchedManifest ? " (replica manifest fetched)" : ""), \(String(format: "%.2f", r.seconds))s")
        }
    }
    if !result.failed.isEmpty {
        Output.standardError("error: failed for \(result.failed.joined(separator: ", ")); the others are done. `cloudmin-mirror status` shows each replica's last error; rerun `cloudmin-mirror sync` (or `catch-up NAME`) when fixed")
        throw ExitCode(2)
    }
}

import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror catch-up NAME`: brings a replica that was down or cut off to the master's
/// generation from what its own disk holds, resuming data an interrupted run already staged.
struct CatchUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Bring a lagging replica to the master's generation, from what its own disk holds.",
        discussion: """
            Fetches the replica's own manifest (instead of trusting the master's record), sends what it \
            lacks (objects an interrupted run already staged there are not sent again) and commits. \
            Safe to interrupt and rerun. Exit status: 0 done, 2 the replica failed (the error is printed).
            """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var progress: ProgressOptions
    @Argument(help: "The replica's name in the configuration.") var name: String
    @Flag(help: "Show what would be sent; send and commit nothing.") var dryRun = false
    @Flag(help: "List each change like rsync --itemize-changes.") var itemize = false
    @Flag(help: "Print JSON for machines.") var json = false
    @Flag(help: "Have the replica rehash every file instead of trusting size, mtime and ctime.") var rehash = false
    @Option(help: ArgumentHelp("Wait this many seconds for a run in progress instead of refusing.", valueName: "seconds")) var wait: Double = 0

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            let before = try StatusReport.collect(context).replicas.first { $0.name == name }
            var options = RunOptions()
            options.replicas = [name]
            options.forceManifest = true
            options.fullRehash = rehash
            options.dryRun = dryRun
            options.itemize = itemize
            options.waitSeconds = wait
            let renderer = progress.install(on: &options)
            let result = try MirrorRun(context: context, log: ProgressRenderer.log(through: renderer)).run(options)
            guard let r = result.replicas.first else { return }
            if json {
                try Output.printJSON(CatchUpReport(r, masterGeneration: result.generation, lastSuccess: before?.lastSuccess,
                                                   dryRun: dryRun, itemized: itemize || dryRun))
            } else if itemize || dryRun {
                for line in r.itemized { print(line) }
            }
            if let error = r.error {
                if !json { print("\(name): FAILED after \(String(format: "%.2f", r.seconds))s: \(error)") }
                Output.error("catch-up of \(name) failed: \(error); what arrived stays staged there, rerun `cloudmin-mirror catch-up \(name)` when fixed")
                throw ExitCode(2)
            }
            if !json { print(Self.report(r, masterGeneration: result.generation, lastSuccess: before?.lastSuccess, dryRun: dryRun)) }
        }
    }

    /// The human summary: how far behind it was, since when, what went, where it is now.
    static func report(_ r: ReplicaRunResult, masterGeneration: UInt64, lastSuccess: Double?, dryRun: Bool) -> String {
        let behind = masterGeneration &- min(r.previousGeneration, masterGeneration)
        let since = lastSuccess.map { "last success \(duration(Date().timeIntervalSince1970 - $0)) ago" } ?? "never caught up before"
        let s = r.summary
        var lines = ["\(r.name): was at generation \(r.previousGeneration), \(behind) behind the master's \(masterGeneration) (\(since))",
                     "  changes: \(s.newFiles) new, \(s.changedFiles) changed, \(s.deletions) deleted, \(s.metadataOnly + s.directoryMetadata) metadata"]
        if dryRun {
            lines.append("  dry run: nothing sent or committed; it would get \(s.bytesNew + s.bytesChanged) bytes of new or changed content")
        } else {
            lines.append("  sent \(r.filesSent) files whole, \(r.deltasSent) deltas, \(r.bytesSent) bytes on the channel, \(r.resumedBytes) bytes resumed from an earlier run, in \(String(format: "%.2f", r.seconds))s")
            lines.append("  now at generation \(r.generation)")
        }
        return lines.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }
}

/// `catch-up --json`: one object.
struct CatchUpReport: Encodable {
    var replica: String
    var ok: Bool
    var error: String?
    var dryRun: Bool
    var previousGeneration: UInt64
    var masterGeneration: UInt64
    /// Generations the replica was behind the master.
    var behind: UInt64
    /// Seconds since its last successful run before this one (nil: never).
    var secondsSinceLastSuccess: Double?
    var generation: UInt64
    var newFiles: Int
    var changedFiles: Int
    var deletions: Int
    var filesSent: Int
    var deltasSent: Int
    var bytesSent: Int64
    var resumedBytes: Int64
    var seconds: Double
    var itemized: [String]?

    init(_ r: ReplicaRunResult, masterGeneration: UInt64, lastSuccess: Double?, dryRun: Bool, itemized: Bool) {
        replica = r.name
        ok = r.ok
        error = r.error
        self.dryRun = dryRun
        previousGeneration = r.previousGeneration
        self.masterGeneration = masterGeneration
        behind = masterGeneration &- min(r.previousGeneration, masterGeneration)
        secondsSinceLastSuccess = lastSuccess.map { Date().timeIntervalSince1970 - $0 }
        generation = r.generation
        newFiles = r.summary.newFiles
        changedFiles = r.summary.changedFiles
        deletions = r.summary.deletions
        filesSent = r.filesSent
        deltasSent = r.deltasSent
        bytesSent = r.bytesSent
        resumedBytes = r.resumedBytes
        seconds = r.seconds
        self.itemized = itemized ? r.itemized : nil
    }
}

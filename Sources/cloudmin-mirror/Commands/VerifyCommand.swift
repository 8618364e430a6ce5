import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror verify NAME`: the replica rehashes everything it holds and the master lists
/// each path that drifted from its record (hand edits, disk corruption).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Rehash a replica's trees and list every path that drifted from the master's record.",
        discussion: """
            Nothing is written on the replica. Each line is rsync --itemize-changes style (what the \
            repair will do) followed by what differs: missing, extra, type, content, mode, owner, mtime. \
            Exit status: 0 clean, 1 drift found (the next `catch-up NAME` or `--repair` fixes it), \
            2 the replica could not be verified.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The replica's name in the configuration.") var name: String
    @Flag(help: "Print JSON for machines.") var json = false
    @Flag(help: "Repair drift right away: a catch-up run with every file rehashed, then verify again.") var repair = false
    @Option(help: ArgumentHelp("Wait this many seconds for a run in progress instead of refusing.", valueName: "seconds")) var wait: Double = 0

    static let driftStatus: Int32 = 1
    static let failedStatus: Int32 = 2

    func run() throws {
        try CommandFailure.reporting {
            let context = try global.context()
            var report = try verify(context)
            if repair && !report.clean {
                var options = RunOptions()
                options.replicas = [name]
                options.forceManifest = true
                options.fullRehash = true
                options.waitSeconds = wait
                let result = try MirrorRun(context: context, log: { Output.standardError($0) }).run(options)
                if let error = result.replicas.first?.error {
                    Output.error("repair of \(name) failed: \(error); rerun `cloudmin-mirror catch-up \(name) --rehash` when fixed")
                    throw ExitCode(Self.failedStatus)
                }
                Output.standardError("\(name): repaired \(report.drift.count) drifted paths; verifying again")
                report = try verify(context)
            }
            if json {
                try Output.printJSON(report)
            } else {
                for item in report.drift {
                    print("\(item.itemized)  [\(item.kinds.map(\.rawValue).joined(separator: ","))]")
                }
                print(report.clean
                    ? "\(name): clean: \(report.entriesChecked) entries rehashed at generation \(report.generation) match the master's record"
                    : "\(name): \(report.drift.count) paths drifted from the master's record of generation \(report.generation)")
            }
            if !report.clean {
                Output.standardError("\(name): the next `cloudmin-mirror catch-up \(name) --rehash` (or `verify \(name) --repair`) repairs it")
                throw ExitCode(Self.driftStatus)
            }
        }
    }

    private func verify(_ context: MirrorContext) throws -> VerifyReport {
        do {
            return try ReplicaVerifier(context: context, log: { Output.standardError($0) }).verify(name, waitSeconds: wait)
        } catch let error as ExitCode {
            throw error
        } catch {
            // Exit 1 means drift: any failure to verify is 2 unless it has its own status.
            let (message, status) = CommandFailure.describe(error)
            Output.error(message)
            throw ExitCode(status == 1 ? Self.failedStatus : status)
        }
    }
}

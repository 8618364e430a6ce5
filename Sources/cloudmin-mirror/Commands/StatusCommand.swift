import ArgumentParser
import Foundation
import MirrorEngine

/// `cloudmin-mirror status [--json]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this host's role, its trees, and each replica's generation, lag and last run."
    )
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON for machines.") var json = false

    func run() throws {
        try CommandFailure.reporting {
            let report = try StatusReport.collect(try global.context())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.text)
            }
        }
    }
}

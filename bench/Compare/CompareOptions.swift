import ArgumentParser
import Foundation

/// `cloudmin-bench compare`: cloudmin-mirror against rsync on a generated Cloudmin workload,
/// bytes counted on a veth outside both tools.
struct CompareOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Benchmark cloudmin-mirror against rsync (default block size and -B4096) on a generated Cloudmin master.",
        discussion: """
        Generates a master with fixtures/generate, puts the replicas' sshd in a network namespace \
        behind a veth pair (made and removed here; needs root), and runs each phase for each tool on \
        the same master state: initial copy, nothing changed, churn cycles, fan-out of one churn \
        cycle to several replicas. Bytes are the veth's rx+tx counters; wall, CPU and peak RSS of \
        the master side come from wait4 on the tool's process; the replica side from GNU time \
        around the replica's command. Every phase ends with a check that each replica equals the \
        master minus the exclusions.
        """
    )

    @Option(help: "Managed systems in the generated master.") var systems = 200
    @Option(name: .customLong("extra-files"), help: ArgumentHelp("Extra small files per system (fixtures/generate --extra-files): 200 systems x 10 make a few thousand files; 5000 x 15 about 100,000.", valueName: "n"))
    var extraFilesPerSystem = 10
    @Option(name: .customLong("image-gib"), help: "Total apparent size of the images, GiB.") var imageGiB = 2
    @Option(help: "Number of images sharing --image-gib (every fourth is stored in s3, excluded).") var images = 2
    @Option(help: "Real data per image, percent (the rest are holes).") var dataPercent = 1.0
    @Option(help: "Generator seed.") var seed = 1
    @Option(help: "Churn cycles measured one by one.") var churnCycles = 3
    @Option(help: "Replicas in the fan-out phase.") var replicasFanout = 3
    @Option(help: ArgumentHelp("Limit the veth to this rate (tc tbf), e.g. 100mbit.", valueName: "rate")) var rate: String?
    @Option(help: ArgumentHelp("Write all figures as JSON here.", valueName: "path")) var json: String?
    @Option(help: ArgumentHelp("Work directory (default: a new one under /tmp).", valueName: "dir")) var work: String?
    @Option(help: ArgumentHelp("The fixtures folder (default: found beside the build).", valueName: "dir")) var fixtures: String?
    @Flag(help: "Keep the work directory.") var keep = false
    @Flag(help: "Do not run rsync with its default block size.") var skipRsyncDefault = false
    @Flag(help: "Do not run rsync -B4096.") var skipRsyncB4096 = false
    @Flag(help: "Skip the in-process warm-session no-change measurement.") var skipWarm = false

    func validate() throws {
        guard systems > 0, imageGiB >= 0, images >= 0, churnCycles >= 0, replicasFanout >= 1, extraFilesPerSystem >= 0 else {
            throw ValidationError("--systems, --replicas-fanout must be positive; sizes and counts not negative")
        }
        guard geteuid() == 0 else { throw ValidationError("compare needs root: it makes a network namespace (ip netns add)") }
    }

    func run() throws { try CompareBench(options: self).run() }
}

/// Entry point for `cloudmin-bench compare ARGS`: parses, validates, runs; exits on error.
func runCompareBench(arguments: [String]) throws {
    CompareOptions.main(arguments)
}

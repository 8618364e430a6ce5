import ArgumentParser
import Foundation
import LoopbackSSHD
import MirrorEngine
import TreeDiff

/// `cloudmin-mirror demo`: the whole job on the embedded default, on this machine.
///
/// A temp master made from `fixtures/` (records, status, sparse images, lock and temp files),
/// a temp replica root behind a real sshd on loopback with the forced-command entry; then
/// replica init, add-replica (initial copy), one churn cycle, a second sync. Leaves nothing
/// running.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Mirror the bundled fixture master to a replica through a loopback sshd, and show what was sent."
    )
    @Option(help: ArgumentHelp("The fixtures folder (default: found beside the build).", valueName: "dir")) var fixtures: String?
    @Flag(help: "Keep the temp master and replica roots and print where they are.") var keep = false

    func run() throws {
        try CommandFailure.reporting {
            let fixturesDir = try fixtures ?? Self.findFixtures()
            let generator = fixturesDir + "/generate"
            let scratch = try ScratchDirectory(prefix: "cloudmin-mirror-demo")
            let masterRoot = scratch.file("master"), replicaRoot = scratch.file("replica")
            try FileManager.default.createDirectory(atPath: replicaRoot, withIntermediateDirectories: true)
            let me = try Self.executablePath()

            step("1. master: the fixture Cloudmin master in \(masterRoot)")
            print(try runTool(generator, ["small", masterRoot]).trimmingCharacters(in: .whitespacesAndNewlines))
            let master = try MirrorContext(root: masterRoot)
            let key = try MasterSetup.ensureKey(master)
            print("master replication key \(key.fingerprint)")
            let pubFile = scratch.file("master.pub")
            try (key.line + "\n").write(toFile: pubFile, atomically: true, encoding: .utf8)

            step("2. replica: `cloudmin-mirror replica init` in \(replicaRoot)")
            let authorizedKeys = scratch.file("replica-authorized_keys")
            print(try runTool(me, ["replica", "init", "--root", replicaRoot, "--master-key", pubFile,
                                   "--authorized-keys", authorizedKeys, "--serve-command", me]).trimmingCharacters(in: .whitespacesAndNewlines))
            let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
            let sshd = try SSHServer.start(authorizedKeys: lines)
            defer { sshd.stop() }
            print("replica sshd on 127.0.0.1:\(sshd.port), host key \(sshd.hostKeyFingerprint) (forced command: replica serve)")

            step("3. master: add-replica (pin host key, check the replica, initial full copy)")
            let added = try MasterSetup.addReplica(master, ReplicaConfig(name: "dr1", host: "127.0.0.1", port: sshd.port, user: sshd.user),
                                                   expectedHostKey: sshd.hostKeyFingerprint) { print($0) }
            let first = try MirrorRun(context: added, log: { print($0) }).run(RunOptions())
            try reportRun(first, itemize: false)
            try check(added, replicaRoot: replicaRoot)

            step("4. one 5-minute cycle of churn on the master")
            print(try runTool(generator, ["churn", masterRoot, "--seed", "1"]).trimmingCharacters(in: .whitespacesAndNewlines))

            step("5. master: sync (what changed, itemized)")
            var options = RunOptions()
            options.itemize = true
            let second = try MirrorRun(context: added, log: { print($0) }).run(options)
            try reportRun(second, itemize: true)
            try check(added, replicaRoot: replicaRoot)

            step("6. master: sync again with nothing changed")
            try reportRun(try MirrorRun(context: added).run(RunOptions()), itemize: false)

            if let a = first.replicas.first, let b = second.replicas.first, a.bytesSent > 0 {
                print(String(format: "\nchurn cycle sent %.1f%% of the initial copy's bytes (%d of %d)", 100 * Double(b.bytesSent) / Double(a.bytesSent), b.bytesSent, a.bytesSent))
            }
            if keep {
                let kept = NSTemporaryDirectory() + "/cloudmin-mirror-demo-kept-\(getpid())"
                try FileManager.default.copyItem(atPath: scratch.path, toPath: kept)
                print("kept master and replica roots in \(kept)")
            }
        }
    }

    /// Scans the replica's trees and compares them with the master's generation.
    private func check(_ master: MirrorContext, replicaRoot: String) throws {
        let (filter, _) = try MirrorRun(context: master).filter()
        let want = try Scanner(root: master.paths.rootDirectory, trees: master.trees, filter: filter).scan().manifest.replicated
        let have = try Scanner(root: replicaRoot, trees: master.trees).scan().manifest.replicated
        let same = want.treeDigest == have.treeDigest
        print("replica == master minus exclusions: \(same ? "yes" : "NO") (\(have.count) entries, tree \(have.treeDigest.description.prefix(16)))")
        if !same { throw ExitCode(1) }
    }

    private func step(_ text: String) { print("\n== \(text)") }

    static func executablePath() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// `fixtures/` beside the package this binary was built in (it lives in .build/<config>/).
    static func findFixtures() throws -> String {
        var dir = URL(fileURLWithPath: try executablePath()).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("fixtures/generate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return dir.appendingPathComponent("fixtures").path }
            dir.deleteLastPathComponent()
        }
        let cwd = FileManager.default.currentDirectoryPath + "/fixtures"
        if FileManager.default.isExecutableFile(atPath: cwd + "/generate") { return cwd }
        throw ValidationError("cannot find fixtures/generate; run from the repository or pass --fixtures DIR")
    }
}

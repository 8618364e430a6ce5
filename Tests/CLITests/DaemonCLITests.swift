import Foundation
import TestSupport
import Testing

/// `daemon` and `install-service` through the built binary.
@Suite struct DaemonCLITests {
    /// SIGTERM stops the daemon with status 0. The master here has no replicas, so each run fails
    /// as a whole (logged); the metrics file it writes after its first attempt shows it is up.
    @Test func sigtermEndsTheDaemonWithStatusZero() throws {
        let fixture = try CLIFixture()
        try fixture.write("/etc/cloudmin-mirror/cloudmin-mirror.conf", "metrics_file = /metrics.prom\n")
        let metrics = fixture.root.appendingPathComponent("metrics.prom").path
        let process = Process()
        process.executableURL = try CLIRunner.binary()
        process.arguments = ["daemon", "--root", fixture.root.path, "--tick", "0.1"]
        let errURL = fixture.root.appendingPathComponent("daemon.err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let up = Date(timeIntervalSinceNow: 60)
        while !FileManager.default.fileExists(atPath: metrics), process.isRunning, Date() < up { usleep(50_000) }
        try #require(FileManager.default.fileExists(atPath: metrics),
                     "no metrics file; stderr: \((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")")
        process.terminate()  // SIGTERM
        let deadline = Date(timeIntervalSinceNow: 30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        try #require(!process.isRunning, "still running 30 s after SIGTERM")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    @Test func installServicePrintShowsExecStartWithThisBinaryAndRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("svc-\(UUID().uuidString)")
        let result = try CLIRunner.run(["install-service", "--print", "--root", root.path])
        #expect(result.status == 0, "\(result)")
        let binary = try CLIRunner.binary().resolvingSymlinksInPath().path
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("ExecStart=\(binary) daemon --root \(root.path)"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: root.path))  // --print writes nothing
    }

    @Test func installServiceWritesTheUnitUnderTheRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("svc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let printed = try CLIRunner.run(["install-service", "--print", "--root", root.path, "--binary", "/usr/local/bin/cloudmin-mirror"])
        let installed = try CLIRunner.run(["install-service", "--root", root.path, "--binary", "/usr/local/bin/cloudmin-mirror"])
        #expect(installed.status == 0, "\(installed)")
        let unit = try String(contentsOfFile: root.path + "/etc/systemd/system/cloudmin-mirror.service", encoding: .utf8)
        #expect(unit == printed.stdout)
    }

    @Test func installServiceRefusesARelativeBinary() throws {
        let result = try CLIRunner.run(["install-service", "--print", "--binary", "bin/cloudmin-mirror"])
        #expect(result.status == 64, "\(result)")
    }
}

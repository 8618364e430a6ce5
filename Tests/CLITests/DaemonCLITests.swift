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

    /// A second SIGTERM abandons a run that is stuck (here: a replica "host" that accepts the TCP
    /// connection and never speaks SSH): the daemon exits 0 without finishing the run, so no
    /// metrics file is written, and the run lock is free again.
    @Test func aSecondSigtermAbandonsAStuckRun() throws {
        let fixture = try CLIFixture()
        let silent = try SilentListener()
        try fixture.write("/etc/cloudmin-mirror/cloudmin-mirror.conf",
                          "metrics_file = /metrics.prom\n[replica r1]\nhost = 127.0.0.1\nport = \(silent.port)\n")
        try fixture.write("/var/lib/cloudmin-mirror/role.json", #"{"role":"master","lineage":"l","since":0}"#)
        let key = try CLIRunner.run(["master", "key", "--root", fixture.root.path])
        try #require(key.status == 0, "\(key)")
        let lock = fixture.root.appendingPathComponent("var/lib/cloudmin-mirror/lock").path
        let metrics = fixture.root.appendingPathComponent("metrics.prom").path

        let process = Process()
        process.executableURL = try CLIRunner.binary()
        process.arguments = ["daemon", "--root", fixture.root.path, "--tick", "0.1"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let started = Date(timeIntervalSinceNow: 60)
        while !Self.isLocked(lock), process.isRunning, Date() < started { usleep(20_000) }
        try #require(Self.isLocked(lock), "the daemon never started its run")
        process.terminate()
        usleep(300_000)
        try #require(process.isRunning && Self.isLocked(lock), "the first SIGTERM must let the run go on")
        process.terminate()
        let deadline = Date(timeIntervalSinceNow: 30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        try #require(!process.isRunning, "still running 30 s after the second SIGTERM")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: metrics))  // the run never finished
        #expect(!Self.isLocked(lock))
    }

    /// Whether another process holds the run lock (`flock` refused).
    static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) != 0
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

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's backlog
/// and then hear nothing, as with a hung host.
final class SilentListener {
    struct ListenFailed: Error { let errno: Int32 }

    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard fd >= 0, ok else {
            let failure = ListenFailed(errno: errno)
            if fd >= 0 { close(fd) }
            throw failure
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

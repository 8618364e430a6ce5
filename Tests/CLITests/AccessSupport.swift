import Foundation
import TestSupport

/// What a finished child process left behind.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The process was killed by the guard deadline (it hung).
    var timedOut: Bool
}

/// Runs the built binary and OpenSSH's clients for the access tests.
enum Access {
    /// The built `cloudmin-mirror`: beside the test binary, else `.build/debug`.
    static let binary: String = {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: me).deletingLastPathComponent()
        // The test bundle may sit inside `X.xctest/`; look beside it too.
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("cloudmin-mirror").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return TestSupport.packageRoot.appendingPathComponent(".build/debug/cloudmin-mirror").path
    }()

    /// Runs `executable` with `arguments`, stdin from /dev/null; kills it after `guardSeconds`
    /// (a hang guard, not a timing assertion: `timedOut` reports it).
    static func run(_ executable: String, _ arguments: [String], guardSeconds: Double = 60) throws -> Finished {
        let scratch = try ScratchDirectory(prefix: "cm-run")
        let out = scratch.file("out"), err = scratch.file("err")
        let child = try ChildProcess.spawn(executable, arguments, stdoutPath: out, stderrPath: err)
        let deadline = Date().addingTimeInterval(guardSeconds)
        var timedOut = false
        while child.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(child.pid, SIGKILL)
                break
            }
            usleep(20_000)
        }
        let status = child.wait()
        return Finished(status: status,
                        stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "",
                        timedOut: timedOut)
    }

    /// `cloudmin-mirror ARGS`.
    static func tool(_ arguments: [String]) throws -> Finished {
        try run(binary, arguments)
    }

    /// OpenSSH client options for `server` with `key`, no user or system config.
    static func clientOptions(_ server: SSHServer, key: TestKey, knownHosts: String) -> [String] {
        ["-F", "/dev/null", "-i", key.privateKeyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "UserKnownHostsFile=\(knownHosts)", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
         "-o", "LogLevel=ERROR"]
    }

    /// `ssh [EXTRA] -p PORT user@127.0.0.1 [COMMAND]`.
    static func ssh(_ server: SSHServer, key: TestKey, knownHosts: String, extra: [String] = [],
                    command: [String] = []) throws -> Finished {
        try run("/usr/bin/ssh", clientOptions(server, key: key, knownHosts: knownHosts) + extra
                + ["-p", String(server.port), "\(server.user)@127.0.0.1"] + command, guardSeconds: 30)
    }

    /// `sftp -b BATCH` with the given batch lines.
    static func sftp(_ server: SSHServer, key: TestKey, knownHosts: String, batch: [String]) throws -> Finished {
        let scratch = try ScratchDirectory(prefix: "cm-sftp")
        let file = scratch.file("batch")
        try (batch.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return try run("/usr/bin/sftp", clientOptions(server, key: key, knownHosts: knownHosts)
                       + ["-b", file, "-P", String(server.port), "\(server.user)@127.0.0.1"], guardSeconds: 30)
    }

    /// Writes a role record by hand (the JSON `RoleRecord` saves) into the state dir under `root`.
    static func writeRole(_ json: String, root: String) throws {
        let state = root + "/var/lib/cloudmin-mirror"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try json.write(toFile: state + "/role.json", atomically: true, encoding: .utf8)
    }

    /// The role name recorded under `root` (nil when none).
    static func role(root: String) -> String? {
        guard let data = FileManager.default.contents(atPath: root + "/var/lib/cloudmin-mirror/role.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["role"] as? String
    }

    /// Lines of a file that carry the replication marker.
    static func markedLines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.hasSuffix(" cloudmin-mirror-master") }.map(String.init)
    }
}

import Foundation

/// A real OpenSSH `sshd` on loopback for one test: its own temp host key, authorized_keys and
/// config, in the foreground (`/usr/sbin/sshd -D -e -f CONFIG`), stopped by its own PID.
///
/// `@unchecked Sendable`: every stored property is immutable after `start`, except the process
/// state, which only `stop`/`pause`/`resume` touch under `lock`.
public final class SSHServer: @unchecked Sendable {
    /// The TCP port sshd listens on (on `host`, and ::1 when asked).
    public let port: Int
    /// The IPv4 address sshd listens on (127.0.0.1 unless `start` was given another).
    public let host: String
    /// The sshd process id.
    public let pid: Int32
    /// The server's host public key line (`ssh-ed25519 AAAA...`).
    public let hostPublicKey: String
    /// The host key fingerprint as `ssh-keygen -l -E sha256` prints it.
    public let hostKeyFingerprint: String
    /// The user tests log in as (the current user).
    public let user: String
    /// The folder holding config, keys and the log; removed by `stop()`.
    public let directory: ScratchDirectory
    /// sshd's log (stderr, LogLevel VERBOSE).
    public let logPath: String

    private let process: ChildProcess
    private let lock = NSLock()
    private var stopped = false

    /// The known_hosts line for this server: `[HOST]:PORT TYPE BASE64` (HOST: 127.0.0.1 by default).
    public var knownHostsLine: String { knownHostsLine(host: host) }

    /// The known_hosts line for this server under another name (`::1`, `localhost`).
    public func knownHostsLine(host: String) -> String {
        let fields = hostPublicKey.split(separator: " ")
        return "[\(host)]:\(port) \(fields[0]) \(fields[1])"
    }

    /// Key type of the server's host key.
    public enum HostKeyType: String, Sendable { case ed25519, ecdsa }

    /// Starts sshd on a free port and waits (bounded) until it accepts connections.
    /// - Parameters:
    ///   - authorizedKeys: public key lines accepted for `user`.
    ///   - hostKeyType: the type of the generated host key.
    ///   - ipv6: also listen on [::1].
    ///   - sftpServer: the `Subsystem sftp` command (e.g. `internal-sftp -R` for read-only).
    ///   - extraConfig: more sshd_config lines.
    ///   - listenAddress: the IPv4 address to listen on (e.g. an address inside a network
    ///     namespace, with `launchPrefix` `["/usr/sbin/ip", "netns", "exec", NS]`).
    ///   - port: the port to listen on; nil picks a free one on 127.0.0.1 (retried when taken).
    ///   - launchPrefix: a command that execs sshd (its pid must become sshd's), empty to run
    ///     sshd directly.
    public static func start(authorizedKeys: [String], hostKeyType: HostKeyType = .ed25519, ipv6: Bool = false,
                             sftpServer: String = "internal-sftp", extraConfig: [String] = [],
                             listenAddress: String = "127.0.0.1", port fixedPort: Int? = nil,
                             launchPrefix: [String] = []) throws -> SSHServer {
        let dir = try ScratchDirectory(prefix: "cm-sshd")
        let hostKey = dir.file("ssh_host_\(hostKeyType.rawValue)_key")
        try runTool("/usr/bin/ssh-keygen", ["-q", "-t", hostKeyType.rawValue, "-N", "", "-C", "cm-test-host", "-f", hostKey])
        let hostPublicKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let fingerprint = try TestKeys.fingerprint(ofPublicKeyFile: hostKey + ".pub")
        let authorized = dir.file("authorized_keys")
        try (authorizedKeys.joined(separator: "\n") + "\n").write(toFile: authorized, atomically: true, encoding: .utf8)
        let user = currentUserName()
        var lastLog = ""
        for _ in 0..<5 {
            let port = try fixedPort ?? freePort()
            var config = [
                "ListenAddress \(listenAddress):\(port)",
                "HostKey \(hostKey)",
                "AuthorizedKeysFile \(authorized)",
                "PidFile none",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "Subsystem sftp \(sftpServer)",
                "LogLevel VERBOSE",
            ]
            if ipv6 { config.insert("ListenAddress [::1]:\(port)", at: 1) }
            config += extraConfig
            let configPath = dir.file("sshd_config")
            try (config.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
            if geteuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
            let logPath = dir.file("sshd.log")
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let command = launchPrefix + ["/usr/sbin/sshd", "-D", "-e", "-f", configPath]
            let process = try ChildProcess.spawn(command[0], Array(command.dropFirst()),
                                                 stdoutPath: logPath, stderrPath: logPath)
            if waitUntilAccepting(address: listenAddress, port: port, process: process) {
                return SSHServer(port: port, host: listenAddress, pid: process.pid, hostPublicKey: hostPublicKey,
                                 hostKeyFingerprint: fingerprint, user: user, directory: dir, logPath: logPath, process: process)
            }
            if process.isRunning { kill(process.pid, SIGTERM) }
            process.wait()
            lastLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if !lastLog.contains("Address already in use") || fixedPort != nil { break }
        }
        throw ToolError(tool: "/usr/sbin/sshd", status: -1, output: "sshd did not start: \(lastLog)")
    }

    private init(port: Int, host: String, pid: Int32, hostPublicKey: String, hostKeyFingerprint: String, user: String,
                 directory: ScratchDirectory, logPath: String, process: ChildProcess) {
        self.port = port
        self.host = host
        self.pid = pid
        self.hostPublicKey = hostPublicKey
        self.hostKeyFingerprint = hostKeyFingerprint
        self.user = user
        self.directory = directory
        self.logPath = logPath
        self.process = process
    }

    deinit { stop() }

    /// The log so far.
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Writes `known_hosts` (just this server's line) into the server's folder and returns its path.
    public func writeKnownHosts(lines: [String]? = nil) throws -> String {
        let path = directory.file("known_hosts_\(UInt32.random(in: 0...UInt32.max))")
        try ((lines ?? [knownHostsLine]).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The live processes sshd forked (per-connection children and the commands they run);
    /// empty when no session is open.
    public func sessionProcesses() -> [Int32] { Self.descendants(of: pid) }

    /// SIGSTOP to sshd and every process it forked (the per-connection children do the talking).
    public func pause() { lock.withLock { signalTree(SIGSTOP) } }

    /// SIGCONT to sshd and its children.
    public func resume() { lock.withLock { signalTree(SIGCONT) } }

    /// Stops sshd and its children (SIGTERM, then SIGKILL after 5 s) and waits for them.
    public func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            signalTree(SIGCONT)
            signalTree(SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { signalTree(SIGKILL) }
            process.wait()
        }
    }

    private func signalTree(_ signal: Int32) {
        for child in Self.descendants(of: pid) { kill(child, signal) }
        kill(pid, signal)
    }

    /// Every live descendant of `root`, from /proc.
    static func descendants(of root: Int32) -> [Int32] {
        var parent: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, let ppid = Int32(fields[1]) { parent[pid] = ppid }
        }
        var result: [Int32] = []
        var frontier: Set<Int32> = [root]
        while !frontier.isEmpty {
            let next = Set(parent.filter { frontier.contains($0.value) }.map(\.key))
            result += next
            frontier = next
        }
        return result
    }

    private static func currentUserName() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }

    /// A port that was free a moment ago: bind 127.0.0.1:0, read the port, close.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Connects to address:port every 50 ms for up to 10 s; false if sshd exits first.
    private static func waitUntilAccepting(address: String, port: Int, process: ChildProcess) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.isRunning {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr(address)
            addr.sin_port = UInt16(port).bigEndian
            let rc = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if rc == 0 { return true }
            usleep(50_000)
        }
        return false
    }
}

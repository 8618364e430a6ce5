import Foundation
import TestSupport

/// One replica of one contender: its root and the replica-side rusage file.
struct BenchReplica {
    let name: String
    let root: String
    let rusage: ReplicaRusageFile
}

/// What a contender does in a phase: bring the given replicas to the master's state.
protocol Contender: AnyObject {
    /// The column name in the table (`cloudmin-mirror`, `rsync`, `rsync -B4096`).
    var label: String { get }
    var replicas: [BenchReplica] { get }
    /// Brings `replicas[indexes]` up to date; returns the master-side cost (several rsync
    /// runs are summed: wall and CPU added, peak RSS the largest).
    func sync(_ indexes: [Int], log: String) throws -> ChildCost
    /// Waits (bounded) until no replica session is open, so that `time` has written its line.
    @discardableResult func waitForSessions() -> Bool
}

/// cloudmin-mirror as a sysadmin runs it: `replica init` on each replica root, a replica sshd
/// (inside the namespace) whose authorized_keys holds the forced-command entry, `master
/// add-replica --no-copy`, and each phase one `cloudmin-mirror sync` child process.
final class CloudminMirrorContender: Contender {
    let label = "cloudmin-mirror"
    let binary: String
    let masterRoot: String
    private(set) var replicas: [BenchReplica] = []
    private(set) var servers: [SSHServer] = []

    init(binary: String, masterRoot: String, work: String, namespace: NetworkNamespace, count: Int) throws {
        self.binary = binary
        self.masterRoot = masterRoot
        let pub = work + "/master.pub"
        let line = try ChildMeasurement.tool([binary, "master", "key", "--root", masterRoot], in: work)
        try line.write(toFile: pub, atomically: true, encoding: .utf8)
        for i in 0..<count {
            let name = "dr\(i + 1)"
            let root = work + "/replica-cm-\(name)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let rusage = ReplicaRusageFile(path: work + "/rusage-cm-\(name)")
            // The forced command runs through GNU time so that the replica side is measured.
            let wrapper = work + "/serve-\(name).sh"
            let script = "#!/bin/sh\nexec " + (rusage.prefix + [binary]).map(shellQuote).joined(separator: " ") + " \"$@\"\n"
            try script.write(toFile: wrapper, atomically: true, encoding: .utf8)
            chmod(wrapper, 0o755)
            let authorizedKeys = work + "/authorized_keys-cm-\(name)"
            try ChildMeasurement.tool([binary, "replica", "init", "--root", root, "--master-key", pub,
                                       "--authorized-keys", authorizedKeys, "--serve-command", wrapper], in: work)
            let lines = try String(contentsOfFile: authorizedKeys, encoding: .utf8).split(separator: "\n").map(String.init)
            let server = try SSHServer.start(authorizedKeys: lines, listenAddress: namespace.peerAddress, port: 2201 + i,
                                             launchPrefix: namespace.launchPrefix)
            servers.append(server)
            Cleanup.shared.add { server.stop() }
            try ChildMeasurement.tool([binary, "master", "add-replica", name, "--root", masterRoot, "--host", namespace.peerAddress,
                                       "--port", "\(server.port)", "--user", server.user, "--host-key", server.hostKeyFingerprint,
                                       "--no-copy", "--no-progress"], in: work)
            replicas.append(BenchReplica(name: name, root: root, rusage: rusage))
        }
    }

    func sync(_ indexes: [Int], log: String) throws -> ChildCost {
        try ChildMeasurement.run([binary, "sync", "--root", masterRoot, "--no-progress"] + indexes.map { replicas[$0].name },
                                 stdoutPath: log, stderrPath: log)
    }

    func waitForSessions() -> Bool { SessionWait.idle(servers) }
}

/// rsync as the issue specifies it: `rsync -a --delete -z -S --no-whole-file [EXTRA]` over
/// OpenSSH to root in the namespace with a plain authorized key, the engine's exclusions
/// written as an rsync filter file; `rsync --server` runs under GNU time (`--rsync-path`).
final class RsyncContender: Contender {
    let label: String
    let extra: [String]
    let masterRoot: String
    let rulesFile: String
    let server: SSHServer
    let key: TestKey
    let knownHosts: String
    private(set) var replicas: [BenchReplica] = []

    init(label: String, extra: [String], tag: String, masterRoot: String, work: String, server: SSHServer, key: TestKey,
         count: Int) throws {
        self.label = label
        self.extra = extra
        self.masterRoot = masterRoot
        self.server = server
        self.key = key
        rulesFile = work + "/rsync-rules"
        knownHosts = try server.writeKnownHosts()
        for i in 0..<count {
            let name = "\(tag)\(i + 1)"
            let root = work + "/replica-\(name)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            replicas.append(BenchReplica(name: name, root: root, rusage: ReplicaRusageFile(path: work + "/rusage-\(name)")))
        }
    }

    func command(_ replica: BenchReplica) -> [String] {
        let ssh = ["ssh", "-p", "\(server.port)", "-i", key.privateKeyPath, "-o", "UserKnownHostsFile=\(knownHosts)",
                   "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
        let rsyncPath = (replica.rusage.prefix + ["rsync"]).map(shellQuote).joined(separator: " ")
        return ["/usr/bin/rsync", "-a", "--delete", "-z", "-S", "--no-whole-file"] + extra
            + ["-e", ssh.joined(separator: " "), "--rsync-path=\(rsyncPath)", "--filter=merge \(rulesFile)",
               masterRoot + "/", "\(server.user)@\(server.host):\(replica.root)/"]
    }

    func sync(_ indexes: [Int], log: String) throws -> ChildCost {
        var total = ChildCost(wallSeconds: 0, userSeconds: 0, systemSeconds: 0, maxRSSKiB: 0, exitStatus: 0)
        for i in indexes {
            let cost = try ChildMeasurement.run(command(replicas[i]), stdoutPath: log, stderrPath: log)
            total.wallSeconds += cost.wallSeconds
            total.userSeconds += cost.userSeconds
            total.systemSeconds += cost.systemSeconds
            total.maxRSSKiB = max(total.maxRSSKiB, cost.maxRSSKiB)
        }
        return total
    }

    func waitForSessions() -> Bool { SessionWait.idle([server]) }
}

enum SessionWait {
    /// Polls every 10 ms, for at most 120 s, until none of the servers has a session process.
    /// - Returns: false when sessions were still open at the deadline.
    @discardableResult
    static func idle(_ servers: [SSHServer]) -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while servers.contains(where: { !$0.sessionProcesses().isEmpty }) {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }
}

/// Single-quotes a word for sh.
func shellQuote(_ word: String) -> String {
    if word.allSatisfy({ $0.isLetter || $0.isNumber || "/._-%=:".contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

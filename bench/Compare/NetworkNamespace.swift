import Foundation

/// A network namespace with a veth pair to the host, made and removed by the harness: the
/// replicas' sshd runs inside, so every byte either tool exchanges crosses the host-side veth,
/// whose kernel counters measure both tools the same way, outside them.
///
/// `@unchecked Sendable`: all properties are immutable; `remove()` is idempotent and guarded by
/// `lock`, because the SIGINT handler may call it from another thread.
final class NetworkNamespace: @unchecked Sendable {
    let name: String
    let hostInterface: String
    let peerInterface: String
    let hostAddress: String
    let peerAddress: String
    private let lock = NSLock()
    private var removed = false

    /// Creates namespace `cmbench<id>`, veth `cmbh<id>` (host) / `cmbn<id>` (inside), addresses
    /// 10.254.X.1/30 and .2, links up. Removes whatever it made if a step fails.
    init(id: Int32) throws {
        name = "cmbench\(id)"
        hostInterface = "cmbh\(id)"
        peerInterface = "cmbn\(id)"
        let subnet = Int(id) % 64 * 4
        let third = Int(id) / 64 % 250
        hostAddress = "10.254.\(third).\(subnet + 1)"
        peerAddress = "10.254.\(third).\(subnet + 2)"
        do {
            try ip(["netns", "add", name])
            try ip(["link", "add", hostInterface, "type", "veth", "peer", "name", peerInterface])
            try ip(["link", "set", peerInterface, "netns", name])
            try ip(["addr", "add", "\(hostAddress)/30", "dev", hostInterface])
            try ip(["link", "set", hostInterface, "up"])
            try ip(["netns", "exec", name, "ip", "addr", "add", "\(peerAddress)/30", "dev", peerInterface])
            try ip(["netns", "exec", name, "ip", "link", "set", peerInterface, "up"])
            try ip(["netns", "exec", name, "ip", "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// The prefix that runs a command inside the namespace (it execs the command, so the pid
    /// is the command's).
    var launchPrefix: [String] { ["/usr/sbin/ip", "netns", "exec", name] }

    /// Models a WAN link: `tc qdisc add dev IF root tbf rate R burst 32kbit latency 400ms` on
    /// both ends of the veth.
    func limitRate(_ rate: String) throws {
        let qdisc = ["qdisc", "add", "dev", "IF", "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"]
        try run(["/usr/sbin/tc"] + qdisc.map { $0 == "IF" ? hostInterface : $0 })
        try run(launchPrefix + ["/usr/sbin/tc"] + qdisc.map { $0 == "IF" ? peerInterface : $0 })
    }

    /// Bytes received plus bytes sent by the host-side veth so far.
    func wireBytes() throws -> UInt64 {
        func counter(_ name: String) throws -> UInt64 {
            let path = "/sys/class/net/\(hostInterface)/statistics/\(name)"
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let value = UInt64(text) else { throw BenchFailure(what: path, detail: "not a number: \(text)") }
            return value
        }
        return try counter("rx_bytes") + counter("tx_bytes")
    }

    /// Deletes the veth pair and the namespace; safe to call more than once, errors ignored.
    func remove() {
        lock.withLock {
            guard !removed else { return }
            removed = true
            try? run(["/usr/sbin/ip", "link", "del", hostInterface])
            try? run(["/usr/sbin/ip", "netns", "del", name])
        }
    }

    deinit { remove() }

    private func ip(_ args: [String]) throws { try run(["/usr/sbin/ip"] + args) }

    private func run(_ argv: [String]) throws {
        let scratch = NSTemporaryDirectory() + "/cmbench-ip-\(getpid())"
        _ = try ChildMeasurement.run(argv, stdoutPath: scratch + ".out", stderrPath: scratch + ".err")
        try? FileManager.default.removeItem(atPath: scratch + ".out")
        try? FileManager.default.removeItem(atPath: scratch + ".err")
    }
}

/// Actions that must run on the way out, also on SIGINT/SIGTERM (network namespace, sshd,
/// the work directory). `@unchecked Sendable`: the list is guarded by `lock`.
final class Cleanup: @unchecked Sendable {
    static let shared = Cleanup()
    private let lock = NSLock()
    private var actions: [(Int, () -> Void)] = []
    private var nextID = 0
    private var sources: [DispatchSourceSignal] = []

    /// Registers an action; returns a token for `cancel`.
    @discardableResult
    func add(_ action: @escaping () -> Void) -> Int {
        lock.withLock {
            nextID += 1
            actions.append((nextID, action))
            return nextID
        }
    }

    private let finished = NSCondition()
    private var running = false

    /// Runs every registered action, newest first, once. A caller that arrives while another
    /// thread is running them (the main thread failing because the signal handler's cleanup
    /// stopped sshd under it) waits until they are done, so the process never exits half-way
    /// through removing the namespace and the work directory.
    func runAll() {
        finished.lock()
        while running { finished.wait() }
        running = true
        finished.unlock()
        let pending = lock.withLock { () -> [(Int, () -> Void)] in
            let all = actions
            actions = []
            return all
        }
        for (_, action) in pending.reversed() { action() }
        finished.lock()
        running = false
        finished.broadcast()
        finished.unlock()
    }

    /// On SIGINT or SIGTERM: run the actions, then exit 130/143.
    func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data("\ncompare bench: interrupted; removing the network namespace and sshd\n".utf8))
                runAll()
                exit(128 + sig)
            }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}

import Foundation
import MirrorEngine
import TestSupport
import TreeDiff

/// Runs the comparison: workload, namespace, contenders, phases, report.
final class CompareBench {
    let options: CompareOptions
    private var results: CompareResults
    private var work = ""
    private var namespace: NetworkNamespace!
    private var workload: Workload!
    private var cloudmin: CloudminMirrorContender!
    private var contenders: [Contender] = []
    private var rsyncLabels: [String] { contenders.dropFirst().map(\.label) }

    init(options: CompareOptions) {
        self.options = options
        results = CompareResults(command: CommandLine.arguments, workload: "", masterEntries: 0, rate: options.rate,
                                 date: ISO8601DateFormatter().string(from: Date()), notes: [])
    }

    func run() throws {
        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }
        try setUp()
        try runPhases()
        if !options.skipWarm { results.warm = try measureWarmNoChange() }
        print("")
        CompareReport.table(results, rsyncTools: rsyncLabels).forEach { print($0) }
        print("")
        CompareReport.targets(results, rsyncTools: rsyncLabels).forEach { print($0) }
        results.notes.forEach { print("note: \($0)") }
        if let json = options.json {
            try CompareReport.writeJSON(results, to: json)
            print("figures written to \(json)")
        }
        if options.keep { print("work directory kept: \(work)") }
    }

    // MARK: setup

    private func setUp() throws {
        if let dir = options.work {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            work = URL(fileURLWithPath: dir).standardizedFileURL.path
        } else {
            var template = Array("/tmp/cmbench-XXXXXX".utf8CString)
            guard let p = mkdtemp(&template) else { throw BenchFailure(what: "mkdtemp", detail: String(cString: strerror(errno))) }
            work = String(cString: p)
        }
        if !options.keep {
            Cleanup.shared.add { [work] in
                // Retried: after SIGINT, a child still writing can make a directory non-empty again.
                for _ in 0..<5 where FileManager.default.fileExists(atPath: work) {
                    try? FileManager.default.removeItem(atPath: work)
                    usleep(200_000)
                }
            }
        }
        let generator = try options.fixtures.map { $0 + "/generate" } ?? Workload.findGenerator()
        let master = work + "/master"
        workload = Workload(generator: generator, masterRoot: master, scratch: work)
        say("work directory \(work)")
        results.workload = try workload.generate(options)
        say(results.workload)

        namespace = try NetworkNamespace(id: getpid())
        Cleanup.shared.add { [namespace] in namespace?.remove() }
        say("network namespace \(namespace.name): host \(namespace.hostInterface) \(namespace.hostAddress) <-> \(namespace.peerAddress)")
        if let rate = options.rate {
            try namespace.limitRate(rate)
            say("veth limited to \(rate) both ways (tbf burst 32kbit latency 400ms)")
        }

        let binary = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent().appendingPathComponent("cloudmin-mirror").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchFailure(what: binary, detail: "not found; build it: swift build -c release --product cloudmin-mirror")
        }
        cloudmin = try CloudminMirrorContender(binary: binary, masterRoot: master, work: work, namespace: namespace,
                                               count: options.replicasFanout)
        contenders = [cloudmin]
        if !options.skipRsyncDefault || !options.skipRsyncB4096 {
            let key = try TestKeys.generate(.ed25519, in: work, name: "rsync_key")
            let server = try SSHServer.start(authorizedKeys: [key.publicKeyLine], listenAddress: namespace.peerAddress, port: 2299,
                                             launchPrefix: namespace.launchPrefix)
            Cleanup.shared.add { server.stop() }
            if !options.skipRsyncDefault {
                contenders.append(try RsyncContender(label: "rsync", extra: [], tag: "rsync-default-", masterRoot: master, work: work,
                                                     server: server, key: key, count: options.replicasFanout))
            }
            if !options.skipRsyncB4096 {
                contenders.append(try RsyncContender(label: "rsync -B4096", extra: ["-B4096"], tag: "rsync-b4096-", masterRoot: master,
                                                     work: work, server: server, key: key, count: options.replicasFanout))
            }
        }
        results.notes.append("page cache not dropped between tools (/proc/sys/vm/drop_caches is not writable here); each tool runs once per phase, warm, in the fixed order \(contenders.map(\.label).joined(separator: ", "))")
        results.notes.append("replica side = the replica's command under GNU time (cloudmin-mirror replica serve / rsync --server and the processes it reaped); the sshd session process is not counted for either tool")
        results.notes.append("rsync fan-out = one rsync run per replica, one after another (wall and CPU summed)")
    }

    // MARK: phases

    private func runPhases() throws {
        try phase("initial", .initial, indexes: [0])
        try phase("no change", .noChange, indexes: [0])
        for cycle in 1...max(1, options.churnCycles) where options.churnCycles > 0 {
            let change = try workload.churn(seed: options.seed * 1000 + cycle)
            try phase("churn \(cycle)", .churn, indexes: [0], change: change)
        }
        let all = Array(0..<options.replicasFanout)
        if all.count > 1 {
            say("fan-out: bringing replicas 2...\(all.count) of each tool to the master's state (not measured)")
            let filter = try MasterFilter(masterRoot: workload.masterRoot)
            try filter.rsyncRules.write(toFile: work + "/rsync-rules", atomically: true, encoding: .utf8)
            for c in contenders { _ = try c.sync(Array(all.dropFirst()), log: work + "/log-setup-fanout"); c.waitForSessions() }
        }
        let change = try workload.churn(seed: options.seed * 1000 + 100)
        try phase("fan-out", .fanout, indexes: all, change: change)
    }

    private func phase(_ name: String, _ kind: PhaseFigures.Kind, indexes: [Int], change: String? = nil) throws {
        if let change { say("\(name): \(change)") }
        let filter = try MasterFilter(masterRoot: workload.masterRoot)
        try filter.rsyncRules.write(toFile: work + "/rsync-rules", atomically: true, encoding: .utf8)
        let want = try filter.masterManifest(workload.masterRoot)
        results.masterEntries = want.count
        var figures = PhaseFigures(phase: name, kind: kind, replicas: indexes.count, change: change, changed: nil, tools: [])
        if kind == .churn || kind == .fanout {
            let previous = cloudmin.replicas[0].root
            figures.changed = try ChangedData.measure(master: workload.masterRoot, masterManifest: want, previous: previous,
                                                      previousManifest: try filter.replicaManifest(previous))
        }
        let slug = name.replacingOccurrences(of: " ", with: "-")
        for contender in contenders {
            for i in indexes { contender.replicas[i].rusage.reset() }
            let before = try namespace.wireBytes()
            let start = ContinuousClock.now
            let cost = try contender.sync(indexes, log: work + "/log-\(slug)-\(contender.label.replacingOccurrences(of: " ", with: ""))")
            if !contender.waitForSessions() { say("\(name) \(contender.label): replica sessions still open after 120 s") }
            let idle = (ContinuousClock.now - start).seconds
            let after = try namespace.wireBytes()
            var invocations = 0, replicaCPU = 0.0, replicaRSS = 0
            for i in indexes {
                let r = contender.replicas[i].rusage.read()
                invocations += r.invocations
                replicaCPU += r.cpuSeconds
                replicaRSS = max(replicaRSS, r.maxRSSKiB)
            }
            let equal = try indexes.allSatisfy { try filter.replicaManifest(contender.replicas[$0].root).treeDigest == want.treeDigest }
            let tool = ToolFigures(tool: contender.label, wireBytes: after - before, wallSeconds: cost.wallSeconds,
                                   untilReplicaIdleSeconds: idle,
                                   cpuSeconds: cost.cpuSeconds, masterMaxRSSKiB: cost.maxRSSKiB,
                                   replicaMaxRSSKiB: invocations > 0 ? replicaRSS : nil,
                                   replicaCPUSeconds: invocations > 0 ? replicaCPU : nil,
                                   replicaInvocations: invocations, replicasEqualMaster: equal)
            figures.tools.append(tool)
            say(String(format: "%@ %@: %@ on the wire, %.3f s wall (%.3f s until the replica side ended), %.3f s CPU, %.1f MiB RSS%@",
                       name, contender.label, CompareReport.bytes(Double(tool.wireBytes)), tool.wallSeconds, idle, tool.cpuSeconds,
                       Double(tool.masterMaxRSSKiB) / 1024, equal ? "" : "; REPLICA DIFFERS FROM MASTER"))
        }
        results.phases.append(figures)
    }

    // MARK: warm session

    /// `MirrorRun` in this process with one `ConnectionPool` (as the daemon keeps it): a first
    /// run warms the session, then 7 runs with nothing changed are timed; the median is the
    /// figure (the machine is shared, single runs are noisy).
    private func measureWarmNoChange() throws -> WarmFigures {
        let context = try MirrorContext(root: workload.masterRoot)
        let pool = ConnectionPool()
        defer { pool.closeAll() }
        var runOptions = RunOptions()
        runOptions.replicas = [cloudmin.replicas[0].name]
        func once() throws -> RunResult {
            let run = MirrorRun(context: context)
            run.pool = pool
            let result = try run.run(runOptions)
            if let error = result.replicas.first?.error { throw BenchFailure(what: "warm no-change run", detail: "\(error)") }
            return result
        }
        _ = try once()
        var times: [Double] = []
        var wire: UInt64 = 0
        var upToDate = true
        for _ in 0..<7 {
            let before = try namespace.wireBytes()
            let start = ContinuousClock.now
            let again = try once()
            times.append((ContinuousClock.now - start).seconds)
            wire = try namespace.wireBytes() - before
            upToDate = upToDate && again.replicas.first?.upToDate == true
        }
        let sorted = times.sorted()
        let median = sorted[sorted.count / 2]
        say(String(format: "warm no-change runs (in-process, pooled session): median %.1f ms (min %.1f, max %.1f over %d), %llu wire bytes each, up to date: %@",
                   median * 1000, sorted[0] * 1000, sorted[sorted.count - 1] * 1000, sorted.count, wire, upToDate ? "yes" : "no"))
        return WarmFigures(files: results.masterEntries, secondRunSeconds: median, secondRunWireBytes: wire, runSeconds: times)
    }

    private func say(_ line: String) {
        print("[compare] \(line)")
        fflush(nil)
    }
}

import Foundation
import SSHTransport
import SystemPackage
import TestSupport

/// SFTP throughput of SSHTransport against OpenSSH `scp` and `sftp` on the same file, same
/// loopback sshd, same cipher and MAC, in the same run.
///
/// Arguments: `--size-mib N` (default 1024), `--buffer-kib K[,K...]` (default 1024; several
/// values sweep the transfer buffer size), `--runs N` (best of N, default 1), `--no-openssh`
/// (only SSHTransport, e.g. for profiling), `--cipher NAME` / `--mac NAME` (force an algorithm
/// on both SSHTransport and the OpenSSH tools).
func runTransportBench(arguments: [String]) throws {
    var sizeMiB = 1024, buffers = [1024], runs = 1, withOpenSSH = true
    var options = SSHSessionOptions()
    var it = arguments.makeIterator()
    while let arg = it.next() {
        switch arg {
        case "--size-mib": sizeMiB = Int(it.next() ?? "") ?? sizeMiB
        case "--buffer-kib": buffers = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--runs": runs = max(1, Int(it.next() ?? "") ?? 1)
        case "--no-openssh": withOpenSSH = false
        case "--cipher": options.ciphers = [it.next() ?? ""]
        case "--mac": options.macs = [it.next() ?? ""]
        default: throw TransportBenchError.usage("unknown argument \(arg); use --size-mib N --buffer-kib K[,K] --runs N")
        }
    }
    let scratch = try ScratchDirectory(prefix: "cm-bench-ssh")
    let key = try TestKeys.generate(.ed25519, in: scratch.path)
    let server = try SSHServer.start(authorizedKeys: [key.publicKeyLine])
    defer { server.stop() }
    let knownHosts = try server.writeKnownHosts()
    let size = sizeMiB << 20
    let source = scratch.file("source.bin"), remote = scratch.file("remote.bin"), back = scratch.file("back.bin")
    print("transport bench: \(sizeMiB) MiB of random data over loopback sshd (OpenSSH, port \(server.port))")
    try runTool("/usr/bin/dd", ["if=/dev/urandom", "of=\(source)", "bs=1M", "count=\(sizeMiB)", "status=none"])

    let session = try SSHSession.connect(host: "127.0.0.1", port: server.port, user: server.user,
                                         identity: .keyFile(path: key.privateKeyPath),
                                         hostKeyPolicy: .requireKnown(knownHostsPath: knownHosts), options: options)
    let algorithms = session.negotiatedAlgorithms
    let cipher = algorithms.cipherClientToServer, mac = algorithms.macClientToServer
    print("negotiated by libssh2: cipher \(cipher), MAC \(mac), kex \(algorithms.kex)")
    let sftp = try SFTPClient(session: session)

    func best(_ body: () throws -> Void) throws -> Double {
        var seconds = Double.infinity
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            let (s, atto) = (ContinuousClock.now - start).components
            seconds = min(seconds, Double(s) + Double(atto) / 1e18)
        }
        return Double(sizeMiB) / seconds
    }

    var rows: [(String, Double, Double)] = []
    for kib in buffers {
        let up = try best {
            let fd = try FileDescriptor.open(source, .readOnly)
            try fd.closeAfter { _ = try sftp.upload(from: fd, to: remote, bufferSize: kib << 10) }
        }
        let down = try best {
            let fd = try FileDescriptor.open(back, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
            try fd.closeAfter { _ = try sftp.download(from: remote, to: fd, bufferSize: kib << 10) }
        }
        try verifySize(back, size)
        rows.append(("SSHTransport (\(kib) KiB)", up, down))
        try? FileManager.default.removeItem(atPath: remote)
        try? FileManager.default.removeItem(atPath: back)
    }
    try session.close()
    if !withOpenSSH {
        for (name, up, down) in rows { print(name, String(format: "upload %.1f MiB/s, download %.1f MiB/s", up, down)) }
        return
    }

    let common = ["-q", "-c", cipher, "-o", "MACs=\(mac)", "-i", key.privateKeyPath, "-o", "UserKnownHostsFile=\(knownHosts)",
                  "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    let target = "\(server.user)@127.0.0.1"
    for (name, extra) in [("scp", [String]()), ("scp -O (legacy)", ["-O"])] {
        let up = try best { try runTool("/usr/bin/scp", common + extra + ["-P", "\(server.port)", source, "\(target):\(remote)"]) }
        let down = try best { try runTool("/usr/bin/scp", common + extra + ["-P", "\(server.port)", "\(target):\(remote)", back]) }
        try verifySize(back, size)
        rows.append((name, up, down))
        try? FileManager.default.removeItem(atPath: back)
    }
    let putBatch = scratch.file("put.batch"), getBatch = scratch.file("get.batch")
    try "put \(source) \(remote)\n".write(toFile: putBatch, atomically: true, encoding: .utf8)
    try "get \(remote) \(back)\n".write(toFile: getBatch, atomically: true, encoding: .utf8)
    let sftpUp = try best { try runTool("/usr/bin/sftp", common + ["-P", "\(server.port)", "-b", putBatch, target]) }
    let sftpDown = try best { try runTool("/usr/bin/sftp", common + ["-P", "\(server.port)", "-b", getBatch, target]) }
    try verifySize(back, size)
    rows.append(("sftp", sftpUp, sftpDown))

    let scp = rows.first { $0.0 == "scp" }!
    print("")
    print("tool                        upload MiB/s  download MiB/s  up/scp  down/scp")
    for (name, up, down) in rows {
        print(name.padding(toLength: 28, withPad: " ", startingAt: 0)
              + String(format: "%12.1f  %14.1f  %6.2fx  %7.2fx", up, down, up / scp.1, down / scp.2))
    }
}

private func verifySize(_ path: String, _ size: Int) throws {
    let actual = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    if actual != size { throw TransportBenchError.usage("\(path) has \(actual) bytes, expected \(size)") }
}

enum TransportBenchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String { switch self { case .usage(let s): "transport bench: \(s)" } }
}

import Foundation
import LoopbackSSHD
@testable import MirrorEngine
import SystemPackage
import TestSupport
import TreeDiff

/// A master root (the fixture master) and a replica root on this machine, joined by a socket
/// pair with the replica's protocol server on a thread: the real engine on both sides, minus SSH.
final class LocalReplicaPair {
    let scratch: ScratchDirectory
    let masterRoot: String
    let replicaRoot: String
    let masterKey: PublicKey

    init(replicas: [String] = ["r1"]) throws {
        scratch = try ScratchDirectory(prefix: "cm-pair")
        masterRoot = scratch.file("master")
        replicaRoot = scratch.file("replica")
        _ = try Fixtures.materializeSmall(into: URL(fileURLWithPath: masterRoot))
        let master = try MirrorContext(root: masterRoot)
        masterKey = try MasterSetup.ensureKey(master)
        try master.ensureStateDirectory()
        try RoleRecord(role: .master, lineage: "lineage-test").save(stateDirectory: master.stateDirectory)
        var config = "# test master\n"
        for name in replicas { config += "[replica \(name)]\nhost = local-\(name)\n" }
        try FileManager.default.createDirectory(atPath: masterRoot + "/etc/cloudmin-mirror", withIntermediateDirectories: true)
        try config.write(toFile: masterRoot + MirrorConfig.defaultPath, atomically: true, encoding: .utf8)
        for name in replicas {
            let replica = try MirrorContext(root: replicaRoot(name))
            try replica.ensureStateDirectory()
            try RoleRecord(role: .replica, masterFingerprint: masterKey.fingerprint).save(stateDirectory: replica.stateDirectory)
        }
    }

    func replicaRoot(_ name: String) -> String { name == "r1" ? replicaRoot : scratch.file("replica-\(name)") }

    var master: MirrorContext { get throws { try MirrorContext(root: masterRoot) } }

    /// A run whose connector serves each replica from its root over a socket pair.
    func mirrorRun(serverFingerprint: String? = nil) throws -> MirrorRun {
        let run = MirrorRun(context: try master)
        let fingerprint = serverFingerprint ?? masterKey.fingerprint
        run.connector = { replica, _ in
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw Errno(rawValue: errno) }
            let context = try MirrorContext(root: self.replicaRoot(replica.name))
            let done = DispatchSemaphore(value: 0)
            let serverFD = fds[0]
            Thread.detachNewThread {
                let fd = FileDescriptor(rawValue: serverFD)
                try? ReplicaServer.serve(context: context, stream: FileDescriptorStream(input: fd, output: fd), clientFingerprint: fingerprint)
                _ = shutdown(serverFD, Int32(SHUT_RDWR))
                done.signal()
            }
            let fd = FileDescriptor(rawValue: fds[1])
            return ReplicaConnection(stream: FileDescriptorStream(input: fd, output: fd)) {
                _ = shutdown(fds[1], Int32(SHUT_WR))
                done.wait()
                close(fds[0])
                close(fds[1])
            }
        }
        return run
    }

    /// The master's manifest as the run sends it (built-in rules applied).
    func masterManifest() throws -> Manifest {
        let context = try master
        let (filter, _) = try MirrorRun(context: context).filter()
        return try Scanner(root: masterRoot, trees: context.trees, filter: filter).scan().manifest.replicated
    }

    /// What the replica's trees hold now.
    func replicaManifest(_ name: String = "r1") throws -> Manifest {
        try Scanner(root: replicaRoot(name), trees: try master.trees).scan().manifest.replicated
    }
}

/// A stream that breaks the link after `limit` bytes written, as a cut cable would.
final class CuttingStream: ByteStream {
    let inner: ByteStream
    let fd: Int32
    var remaining: Int
    struct Cut: Error {}

    init(_ inner: ByteStream, fd: Int32, limit: Int) {
        self.inner = inner
        self.fd = fd
        remaining = limit
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try inner.read(into: buffer) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count > remaining {
            if remaining > 0 { try inner.write(UnsafeRawBufferPointer(rebasing: bytes[..<remaining])) }
            remaining = 0
            _ = shutdown(fd, Int32(SHUT_RDWR))
            throw Cut()
        }
        remaining -= bytes.count
        try inner.write(bytes)
    }
}

extension LocalReplicaPair {
    /// A run whose connection to every replica is cut after `limit` bytes.
    func cutRun(after limit: Int) throws -> MirrorRun {
        let run = try mirrorRun()
        let plain = run.connector
        run.connector = { replica, context in
            let c = try plain(replica, context)
            let fd = (c.stream as! FileDescriptorStream).output.rawValue
            return ReplicaConnection(stream: CuttingStream(c.stream, fd: fd, limit: limit), close: c.close)
        }
        return run
    }
}

import Foundation
@testable import MirrorEngine
import SystemPackage
import Testing
@testable import TreeDiff

/// Helpers for the hostile-peer tests: fake replicas, crafted manifests, tree snapshots.
enum Hostile {
    /// A manifest encoding holding `entries` (sorted by path, duplicates kept) unchecked: the
    /// encoder does not validate, so this is what a hostile peer could send (`..`, absolute
    /// paths, NUL, duplicates).
    static func manifestBytes(_ entries: [ManifestEntry]) -> [UInt8] {
        Manifest(sortedUnchecked: entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }).encoded()
    }

    static func file(_ path: String, _ text: String = "x") -> ManifestEntry {
        var hasher = ContentHasher()
        Array(text.utf8).withUnsafeBytes { hasher.update($0) }
        return ManifestEntry(path: path, kind: .file, size: Int64(text.utf8.count), mode: 0o644,
                             mtimeNs: 1_650_000_000_000_000_000, digest: hasher.finalize())
    }

    static func directory(_ path: String) -> ManifestEntry {
        ManifestEntry(path: path, kind: .directory, mode: 0o755, mtimeNs: 1_650_000_000_000_000_000)
    }

    /// Every path under `root` with its kind, size, mode and content digest (symlinks not
    /// followed), except below the paths in `excluding`: to prove nothing else changed.
    static func snapshot(_ root: String, excluding: [String] = []) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let full = root + "/" + relative
            if excluding.contains(where: { full == $0 || full.hasPrefix($0 + "/") }) { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            let type = attributes[.type] as? FileAttributeType
            var line = "\(type?.rawValue ?? "?") \(attributes[.posixPermissions] ?? "")"
            if type == .typeRegular {
                let fd = try FileDescriptor.open(full, .readOnly)
                defer { try? fd.close() }
                let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
                line += " \(try FileDigester.digest(of: fd, size: size).digest)"
            } else if type == .typeSymbolicLink {
                line += " -> \(try FileManager.default.destinationOfSymbolicLink(atPath: full))"
            }
            result[relative] = line
        }
        return result
    }
}

/// A replica impostor on a socket pair: a thread answers the master's frames with `script`
/// (which returns false to hang up).
final class FakeReplica: @unchecked Sendable {
    // @unchecked: `received` is written by the responder thread and read after `close`
    // joined it (the semaphore orders the two).
    let script: @Sendable (Frame, FrameStream) throws -> Bool
    private(set) var received: [UInt8] = []

    init(script: @escaping @Sendable (Frame, FrameStream) throws -> Bool) {
        self.script = script
    }

    /// A connector for `MirrorRun` that reaches this impostor instead of a replica.
    func connector() -> (ReplicaConfig, MirrorContext) throws -> ReplicaConnection {
        { _, _ in
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw Errno(rawValue: errno) }
            let done = DispatchSemaphore(value: 0)
            let serverFD = fds[0]
            Thread.detachNewThread {
                let fd = FileDescriptor(rawValue: serverFD)
                let frames = FrameStream(FileDescriptorStream(input: fd, output: fd), peer: "master")
                while let frame = try? frames.receive() {
                    self.received.append(frame.type)
                    guard (try? self.script(frame, frames)) == true else { break }
                    try? frames.flush()
                }
                _ = shutdown(serverFD, Int32(SHUT_RDWR))
                done.signal()
            }
            let fd = FileDescriptor(rawValue: fds[1])
            return ReplicaConnection(stream: FileDescriptorStream(input: fd, output: fd)) {
                _ = shutdown(fds[1], Int32(SHUT_RDWR))
                done.wait()
                close(fds[0])
                close(fds[1])
            }
        }
    }

    /// A well-formed hello reply.
    static func hello(fingerprint: String, generation: UInt64 = 0, lineage: String = "", treeDigest: ContentDigest? = nil,
                      freeBytes: Int64 = 1 << 40, partial: [ContentDigest: Int64] = [:]) -> Frame {
        Frame(type: MessageType.helloReply.rawValue,
              payload: HelloReply(version: ProtocolVersion.current, role: "replica", acceptedMaster: fingerprint,
                                  generation: generation, lineage: lineage, treeDigest: treeDigest, freeBytes: freeBytes,
                                  staged: [], partial: partial).encoded())
    }

    /// Sends `bytes` as a reply (data frames and the end marker).
    static func reply(_ bytes: [UInt8], on frames: FrameStream) throws {
        try frames.send(Frame(type: MessageType.replyData.rawValue, payload: bytes))
        try frames.send(Frame(type: MessageType.replyEnd.rawValue, payload: []))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LoopbackSSHD
import MirrorEngine
import TreeDiff

/// The replica's root on a small tmpfs. In turn: a new file bigger than the free space, which
/// must be refused before anything is written; a file that fits, with the disk filled by
/// another writer while it arrives; a Cloudmin churn plus a file, with the disk filled while
/// the commit stages its temps. The last two must fail cleanly. Every
/// trial: the live trees untouched, staging bounded, and once space is back (a bigger tmpfs,
/// the other writer's file gone) the next run converges and the disk is not left full.
final class FullDiskTrials: FaultTrials {
    private var pair: FaultPair?
    private var mounted: String?
    private static let baseSize: Int64 = 24 << 20
    private var baseFree: Int64 = 0
    private var blob: String?

    func setUp(rng: inout SplitMix64, progress: @escaping @Sendable (String) -> Void) throws -> String? {
        let probe = try ScratchDirectory(prefix: "cm-faults-mount")
        do {
            try Self.mount(probe.path, size: 1 << 20)
            try Self.unmount(probe.path)
        } catch {
            return "needs root (mount -t tmpfs failed: \("\(error)".prefix(200)))"
        }
        do {
            pair = try FaultPair { root in
                try Self.mount(root, size: Self.baseSize)
                self.mounted = root
            }
        } catch {
            if let mounted { try? Self.unmount(mounted) }
            mounted = nil
            throw error
        }
        baseFree = try Self.freeBytes(pair!.replicaRoot)
        progress("full-disk: replica root on a \(Self.baseSize >> 20) MiB tmpfs, \(baseFree >> 10) KiB free after the first copy")
        return nil
    }

    func tearDown() {
        pair?.server.stop()
        if let mounted { try? Self.unmount(mounted) }
        mounted = nil
        pair = nil
    }

    static func mount(_ path: String, size: Int64) throws {
        try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
    }

    static func remount(_ path: String, size: Int64) throws {
        try runTool("/bin/mount", ["-o", "remount,size=\(size)", path])
    }

    static func unmount(_ path: String) throws {
        do { try runTool("/bin/umount", [path]) } catch { try runTool("/bin/umount", ["-l", path]) }
    }

    static func freeBytes(_ path: String) throws -> Int64 {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    func run(_ i: Int, of trials: Int, rng: inout SplitMix64) -> TrialResult {
        guard let pair, let root = mounted else { return TrialResult(skipped: "no pair") }
        return TrialResult.checking { result in
            let old = try pair.replicaManifest()
            let free = try Self.freeBytes(root)
            defer { try? FileManager.default.removeItem(atPath: root + "/faultlab-filler") }
            let variant = i % 3
            let refuse = variant == 0
            if variant == 2 { try pair.churn(seed: 7000 + i) }
            let size = refuse ? Int(free) + (1 << 20) : Int(free / (variant == 1 ? 2 : 4)) & ~4095
            let name = "faultlab-disk-\(i + 1).bin"
            try pair.writeBlob(name, bytes: size, rng: &rng)
            blob = name
            let new = try pair.masterManifest()
            var filler: DiskFiller?
            let state = try pair.replica.stateDirectory + "/replica"
            switch variant {
            case 1: filler = DiskFiller(watching: try pair.objectsDirectory, for: { $0.hasSuffix(".part") }, fillFile: root + "/faultlab-filler")
            case 2: filler = DiskFiller(watching: state, for: { $0 == "prepare.list" }, fillFile: root + "/faultlab-filler")
            default: break
            }
            let failed = try pair.sync()
            filler?.stop()
            let staged = try pair.stagedBytes()
            if refuse {
                if failed.ok { result.problems.append("a \(size)-byte file with \(free) bytes free was not refused") }
                if staged.onDisk > 64 << 10 { result.problems.append("\(staged.onDisk) bytes staged before the refusal") }
                if try Self.freeBytes(root) < free - (256 << 10) { result.problems.append("free space dropped although the run was refused") }
            } else if filler?.filled != true || failed.ok {
                result.figures["fillerTooLate"] = 1
            } else if staged.onDisk > Int64(size) + (1 << 20) {
                result.problems.append("\(staged.onDisk) bytes staged for a \(size)-byte file")
            }
            // Space back: the other writer's file gone (a commit that passed its commit point
            // and then met the full disk finishes now, at the replica's next recovery).
            try? FileManager.default.removeItem(atPath: root + "/faultlab-filler")
            let (held, problems) = try pair.wholeness(old: old, new: new)
            result.problems += problems
            if held == .neither { result.lostOrMixed = true }
            if held == .new && !failed.ok { result.figures["failedAfterTheCommitPoint"] = 1 }

            // A bigger disk for the file that was refused.
            if refuse { try Self.remount(root, size: Self.baseSize + Int64(size) + (8 << 20)) }
            let next = try pair.sync()
            if let error = next.error { result.problems.append("next run (space back) failed: \(error)") }
            result.problems += try pair.convergence()
            let after = try pair.stagedBytes()
            if after.onDisk > 64 << 10 { result.problems.append("\(after.onDisk) bytes left staged after the commit") }

            // Back to the small disk for the next trial: drop the file on both sides.
            try FileManager.default.removeItem(atPath: pair.blobDirectory + "/" + name)
            let cleanup = try pair.sync()
            if let error = cleanup.error { result.problems.append("cleanup run failed: \(error)") }
            if refuse { try Self.remount(root, size: Self.baseSize) }
            let freeAfter = try Self.freeBytes(root)
            if freeAfter < baseFree - (1 << 20) {
                result.problems.append("disk left fuller: \(freeAfter) bytes free, \(baseFree) at the start")
            }
            result.converged = result.problems.isEmpty
        }
    }
}

/// Another writer that fills the replica's disk as soon as a file appears (an object starting
/// to arrive, a commit starting to stage).
///
/// `@unchecked Sendable`: `stopped` and `filled` are touched only under `lock`.
final class DiskFiller: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var didFill = false
    private let done = DispatchSemaphore(value: 0)

    /// Starts watching `directory` (every millisecond) for a name `trigger` accepts, then fills
    /// the disk with `fillFile`.
    init(watching directory: String, for trigger: @escaping @Sendable (String) -> Bool, fillFile: String) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while !lock.withLock({ stopped }) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                if names.contains(where: trigger) {
                    Self.fill(fillFile)
                    lock.withLock { didFill = true }
                    return
                }
                usleep(1000)
            }
        }
    }

    /// Writes zeros (real blocks) until the filesystem is full.
    private static func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xA5, count: 1 << 20)
        var size = chunk.count
        while size >= 4096 {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if n <= 0 { size /= 2 }
        }
    }

    /// Stops watching and waits for the filler thread.
    func stop() {
        lock.withLock { stopped = true }
        done.wait()
    }

    var filled: Bool { lock.withLock { didFill } }
}

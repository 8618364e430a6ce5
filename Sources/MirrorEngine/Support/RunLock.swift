#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The lock that keeps mirror runs from overlapping: `flock` on a file in the state directory,
/// released by the kernel when the holder exits, even after kill -9.
public final class RunLock {
    /// Why the lock could not be had.
    public struct Busy: Error, Sendable, CustomStringConvertible {
        /// The holder's PID as it wrote it, when readable.
        public var holder: Int32?
        public var path: String
        public var description: String {
            let who = holder.map { "process \($0)" } ?? "another process"
            return "\(path): a cloudmin-mirror run is already in progress (\(who)); wait for it to finish or use --wait"
        }
    }

    private let fd: FileDescriptor
    public let path: String

    /// Takes the lock.
    /// - Parameters:
    ///   - path: the lock file (created when missing).
    ///   - waitSeconds: how long to wait for a holder to finish; 0 refuses at once.
    ///   - onWait: called once when the lock is busy and we start waiting.
    /// - Throws: `RunLock.Busy` when still held after `waitSeconds`; `Errno` when the file
    ///   cannot be opened.
    public init(path: String, waitSeconds: Double = 0, onWait: ((Busy) -> Void)? = nil) throws {
        self.path = path
        fd = try FileDescriptor.open(FilePath(path), .readWrite, options: [.create, .closeOnExec, .noFollow],
                                     permissions: [.ownerReadWrite])
        let deadline = Self.now() + waitSeconds
        var announced = false
        while flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let busy = Busy(holder: Self.holder(fd), path: path)
            guard errno == EWOULDBLOCK, Self.now() < deadline else {
                try? fd.close()
                throw busy
            }
            if !announced { onWait?(busy); announced = true }
            usleep(100_000)
        }
        _ = ftruncate(fd.rawValue, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = try? pid.withUnsafeBytes { try fd.writeAll(toAbsoluteOffset: 0, $0) }
    }

    deinit {
        // Unlock explicitly: a child forked by another thread (posix_spawn) may briefly share
        // this open file description, and closing our descriptor alone would leave it locked.
        _ = flock(fd.rawValue, LOCK_UN)
        try? fd.close()
    }

    private static func holder(_ fd: FileDescriptor) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 32)
        guard let n = try? buf.withUnsafeMutableBytes({ try fd.read(fromAbsoluteOffset: 0, into: $0) }), n > 0 else { return nil }
        return Int32(String(decoding: buf[..<n], as: UTF8.self).trimmingWhitespace().split(separator: "\n").first ?? "")
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

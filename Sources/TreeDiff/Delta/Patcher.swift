import SystemPackage

/// Rebuilds a new file from a base file and a delta stream, in constant memory.
///
/// Push the delta's bytes with `feed`; the new file's bytes come out through `emit`. The base
/// is read with `pread` at the offsets the delta's COPY commands name, straight into the
/// output buffer. Wraps `rs_patch_begin` (with a copy callback) and `rs_job_iter`.
public final class Patcher {
    private let driver: JobDriver

    /// Starts a patch job.
    /// - Parameter base: an open, readable descriptor of the base file; the caller keeps it
    ///   open until the patch finishes, and closes it. Its file offset is not used or moved.
    /// - Throws: `DeltaError` `.internal` if librsync cannot start the job.
    public init(base: FileDescriptor) throws {
        let reader = BaseFileReader(fd: base)
        guard let job = LibrsyncJobHandle.patch(base: reader) else {
            throw DeltaError(.internal(result: 107), context: "starting patch")
        }
        let driver = JobDriver(handle: job, context: "applying delta")
        driver.ioErrno = { [reader] in reader.lastErrno }
        self.driver = driver
    }

    /// Whether the delta's end command has been read (the new file is complete).
    public var isFinished: Bool { driver.isFinished }

    /// Feeds the next bytes of the delta.
    /// - Parameters:
    ///   - input: the next delta bytes (any length, may be empty).
    ///   - isLast: true on the last call; the delta must be complete by then.
    ///   - emit: receives the new file's bytes in chunks of at most 256 KiB, valid during the call.
    /// - Throws: `DeltaError` `.badMagic` (not a delta), `.corrupt`, `.inputEnded` (delta cut
    ///   short, or the base is shorter than the delta expects), `.ioError` (reading the base);
    ///   or what `emit` throws. The patcher is unusable after an error.
    public func feed(_ input: UnsafeRawBufferPointer, isLast: Bool,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try driver.feed(input, isLast: isLast, emit: emit)
    }
}

/// Reads the base file for librsync's copy callback; remembers the errno of a failed read.
final class BaseFileReader: LibrsyncBaseSource {
    let fd: FileDescriptor
    private(set) var lastErrno: Int32?

    init(fd: FileDescriptor) { self.fd = fd }

    func copy(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) -> LibrsyncCopyOutcome {
        do {
            let n = try fd.read(fromAbsoluteOffset: offset, into: buffer, retryOnInterrupt: true)
            // A short read is fine: librsync asks again for the rest. Zero means the base ends.
            return n > 0 ? .copied(n) : .endOfBase
        } catch let e as Errno {
            lastErrno = e.rawValue
            return .ioError
        } catch {
            lastErrno = Errno.ioError.rawValue
            return .ioError
        }
    }
}

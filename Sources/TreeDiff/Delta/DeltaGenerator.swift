/// Computes the delta of a new file against a loaded `Signature`, as a stream.
///
/// Push the new file's bytes with `feed`; the delta (rdiff's format, applicable with
/// `rdiff patch` or `Patcher`) comes out through `emit`. Memory: the signature plus a few
/// blocks of look-ahead, whatever the file size. Wraps `rs_delta_begin` and `rs_job_iter`.
public final class DeltaGenerator {
    /// The signature the delta is computed against (kept alive for the job).
    public let signature: Signature
    private let driver: JobDriver

    /// Starts a delta job.
    /// - Parameter signature: the loaded signature of the base the receiver holds.
    /// - Throws: `DeltaError` `.internal` if librsync cannot start the job.
    public init(signature: Signature) throws {
        guard let job = LibrsyncJobHandle.delta(signature: signature.handle) else {
            throw DeltaError(.internal(result: 107), context: "starting delta")
        }
        self.signature = signature
        driver = JobDriver(handle: job, context: "computing delta")
    }

    /// Whether the delta is complete.
    public var isFinished: Bool { driver.isFinished }

    /// Bytes of the new file sent as literals so far (what the base did not have).
    public var literalBytes: Int64 { driver.statistics.literalBytes }
    /// Bytes of the new file sent as copies from the base so far.
    public var copiedBytes: Int64 { driver.statistics.copiedBytes }

    /// Feeds the next bytes of the new file.
    /// - Parameters:
    ///   - input: the next bytes (any length, may be empty).
    ///   - isLast: true on the last call; the delta's end is emitted then.
    ///   - emit: receives delta bytes in chunks of at most 256 KiB, valid during the call.
    /// - Throws: `DeltaError`, or what `emit` throws (the generator is then unusable).
    public func feed(_ input: UnsafeRawBufferPointer, isLast: Bool,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try driver.feed(input, isLast: isLast, emit: emit)
    }
}

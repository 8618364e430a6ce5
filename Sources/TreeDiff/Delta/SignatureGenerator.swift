/// Computes the signature of a base file as a stream, in constant memory.
///
/// Push the base file's bytes in order with `feed`; the signature (rdiff's format, readable by
/// `rdiff delta` and by `Signature`) comes out through `emit`. Wraps `rs_sig_begin` and
/// `rs_job_iter`; the `rs_job_t` is freed with the generator.
public final class SignatureGenerator {
    /// The parameters the signature is written with.
    public let parameters: DeltaParameters
    private let driver: JobDriver

    /// Starts a signature job.
    /// - Parameter parameters: block length, strong sum length and format
    ///   (see `DeltaParameters.recommended(forFileSize:)`).
    /// - Throws: `DeltaError` `.invalidParameters` when librsync refuses them.
    public init(parameters: DeltaParameters) throws {
        try parameters.validate()
        guard let job = LibrsyncJobHandle.signature(
            blockLength: parameters.blockLength, strongLength: parameters.strongLength,
            magic: parameters.format.magic) else {
            throw DeltaError(.invalidParameters, context: "starting signature (\(parameters))")
        }
        self.parameters = parameters
        driver = JobDriver(handle: job, context: "computing signature")
    }

    /// Whether the signature is complete (after a `feed` with `isLast: true`).
    public var isFinished: Bool { driver.isFinished }

    /// Feeds the next bytes of the base file.
    /// - Parameters:
    ///   - input: the next bytes (any length, may be empty).
    ///   - isLast: true on the last call; the rest of the signature is emitted then.
    ///   - emit: receives signature bytes in chunks of at most 256 KiB, valid during the call.
    /// - Throws: `DeltaError`, or what `emit` throws (the generator is then unusable).
    public func feed(_ input: UnsafeRawBufferPointer, isLast: Bool,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try driver.feed(input, isLast: isLast, emit: emit)
    }
}

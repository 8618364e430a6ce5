/// A signature loaded into memory and indexed, ready for `DeltaGenerator`.
///
/// Owns librsync's `rs_signature_t` (freed with `rs_free_sumset`). Not Sendable: librsync
/// updates match statistics inside it while a delta runs, so use it from one task at a time.
public final class Signature {
    let handle: LibrsyncSignatureHandle
    /// Block length the signature was computed with.
    public let blockLength: Int
    /// Bytes of strong sum per block.
    public let strongLength: Int
    /// The signature's format.
    public let format: DeltaParameters.Format
    /// Blocks described (the base's size divided by the block length, rounded up).
    public let blockCount: Int

    init(handle: LibrsyncSignatureHandle, blockLength: Int, strongLength: Int,
         format: DeltaParameters.Format, blockCount: Int) {
        self.handle = handle
        self.blockLength = blockLength
        self.strongLength = strongLength
        self.format = format
        self.blockCount = blockCount
    }

    /// The parameters the signature was made with.
    public var parameters: DeltaParameters {
        DeltaParameters(blockLength: blockLength, strongLength: strongLength, format: format)
    }

    /// An estimate of the memory the loaded signature takes: per block its sums (rounded up
    /// to 8 bytes) plus the hash index librsync builds (about two 8+4-byte slots per block).
    public var estimatedMemory: Int {
        let entry = (4 + strongLength + 7) / 8 * 8
        return blockCount * (entry + 2 * 12) + 256
    }

    /// Loads a whole signature from a buffer (convenience over `SignatureLoader`).
    /// - Throws: `DeltaError` `.badMagic`, `.corrupt` or `.inputEnded` for a bad signature.
    public static func load(_ bytes: UnsafeRawBufferPointer) throws -> Signature {
        let loader = try SignatureLoader()
        try loader.feed(bytes, isLast: true)
        return try loader.finish()
    }
}

/// Reads a signature stream (rdiff's format) into a `Signature`, piece by piece.
///
/// Wraps `rs_loadsig_begin`, `rs_job_iter` and, in `finish()`, `rs_build_hash_table`.
public final class SignatureLoader {
    private let sink = LibrsyncSignatureSink()
    private let driver: JobDriver
    private var header: [UInt8] = []
    private var bodyBytes: Int64 = 0
    private var finished = false
    private var failure: DeltaError?

    /// Starts loading.
    /// - Throws: `DeltaError` `.internal` if librsync cannot start the job.
    public init() throws {
        guard let job = LibrsyncJobHandle.loadSignature(into: sink) else {
            throw DeltaError(.internal(result: 107), context: "starting to load a signature")
        }
        driver = JobDriver(handle: job, context: "loading signature")
    }

    /// Feeds the next bytes of the signature stream.
    /// - Parameters:
    ///   - input: the next bytes (any length).
    ///   - isLast: true on the last call.
    /// - Throws: `DeltaError` `.badMagic` (not a signature), `.corrupt`, `.inputEnded`.
    public func feed(_ input: UnsafeRawBufferPointer, isLast: Bool) throws {
        let headerPart = min(12 - header.count, input.count)
        if headerPart > 0 { header.append(contentsOf: input.prefix(headerPart)) }
        bodyBytes += Int64(input.count - headerPart)
        // librsync reads any magic and fails later on the block length; say what it is.
        if header.count >= 4 && headerPart > 0 {
            let magic = header[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if DeltaParameters.Format(magic: magic) == nil {
                let e = DeltaError(.badMagic, context: "loading signature: not a librsync signature")
                failure = e
                throw e
            }
        }
        if let failure { throw failure }
        try driver.feed(input, isLast: isLast) { _ in
            throw DeltaError(.internal(result: 107), context: "loading signature: unexpected output")
        }
    }

    /// Indexes the loaded signature and returns it; call after the `isLast` feed.
    /// - Throws: `DeltaError` `.inputEnded` if the stream was not finished, `.corrupt` if the
    ///   header or block count is impossible.
    public func finish() throws -> Signature {
        guard !finished else { throw DeltaError(.misuse, context: "loading signature: finish() called twice") }
        guard driver.isFinished, header.count == 12 else {
            throw DeltaError(.inputEnded, context: "loading signature: stream not finished")
        }
        finished = true
        func word(_ i: Int) -> UInt32 {
            header[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let blockLength = Int(word(4)), strongLength = Int(word(8))
        guard let format = DeltaParameters.Format(magic: word(0)), blockLength > 0, strongLength > 0,
              bodyBytes % Int64(4 + strongLength) == 0 else {
            throw DeltaError(.corrupt, context: "loading signature: impossible header")
        }
        guard let handle = sink.take() else {
            throw DeltaError(.internal(result: 107), context: "loading signature: librsync returned no signature")
        }
        if let code = handle.buildHashTable() {
            throw DeltaError(code, context: "indexing signature")
        }
        return Signature(handle: handle, blockLength: blockLength, strongLength: strongLength,
                         format: format, blockCount: Int(bodyBytes / Int64(4 + strongLength)))
    }
}

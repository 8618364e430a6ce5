import SystemPackage

/// Signature, delta and patch over file descriptors, in constant memory (a 256 KiB read
/// buffer plus each job's 256 KiB output buffer), whatever the file size.
public enum DeltaFiles {
    /// Bytes read from a descriptor per `feed`.
    public static let readChunk = 256 * 1024

    /// What a delta contained.
    public struct DeltaSummary: Sendable, Hashable {
        /// Bytes of the new file the delta carries literally.
        public var literalBytes: Int64
        /// Bytes of the new file the delta copies from the base.
        public var copiedBytes: Int64
        /// Bytes of delta emitted.
        public var deltaBytes: Int64

        public init(literalBytes: Int64, copiedBytes: Int64, deltaBytes: Int64) {
            self.literalBytes = literalBytes
            self.copiedBytes = copiedBytes
            self.deltaBytes = deltaBytes
        }
    }

    /// Streams everything readable from `fd` (from its current offset to EOF) into `body`,
    /// in pieces of at most `readChunk` bytes; the last call has `isLast: true`.
    /// - Throws: `DeltaError` `.ioError` when reading fails, or what `body` throws.
    public static func forEachChunk(
        of fd: FileDescriptor, what: String,
        _ body: (UnsafeRawBufferPointer, _ isLast: Bool) throws -> Void
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do {
                n = try fd.read(into: buffer, retryOnInterrupt: true)
            } catch let e as Errno {
                throw DeltaError(.ioError(errno: e.rawValue), context: "reading \(what)")
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), n == 0)
            if n == 0 { return }
        }
    }

    /// Computes the signature of the file behind `base`, from its current offset.
    /// - Parameters:
    ///   - base: readable descriptor of the base file (a pipe works too).
    ///   - parameters: see `DeltaParameters.recommended(forFileSize:)`.
    ///   - emit: receives the signature in chunks.
    /// - Throws: `DeltaError`, or what `emit` throws.
    public static func signature(
        of base: FileDescriptor, parameters: DeltaParameters,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let job = try SignatureGenerator(parameters: parameters)
        try forEachChunk(of: base, what: "base file") { try job.feed($0, isLast: $1, emit: emit) }
    }

    /// Loads a signature stream from `fd` (current offset to EOF).
    /// - Throws: `DeltaError` `.badMagic`, `.corrupt`, `.inputEnded`, `.ioError`.
    public static func loadSignature(from fd: FileDescriptor) throws -> Signature {
        let loader = try SignatureLoader()
        try forEachChunk(of: fd, what: "signature") { try loader.feed($0, isLast: $1) }
        return try loader.finish()
    }

    /// Computes the delta of the file behind `newFile` against `signature`.
    /// - Parameters:
    ///   - newFile: readable descriptor of the new file (current offset to EOF).
    ///   - signature: the loaded signature of the receiver's base.
    ///   - emit: receives the delta in chunks.
    /// - Returns: how much was sent literally and copied.
    /// - Throws: `DeltaError`, or what `emit` throws.
    @discardableResult
    public static func delta(
        of newFile: FileDescriptor, against signature: Signature,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> DeltaSummary {
        let job = try DeltaGenerator(signature: signature)
        var bytes: Int64 = 0
        try forEachChunk(of: newFile, what: "new file") {
            try job.feed($0, isLast: $1) { chunk in
                bytes += Int64(chunk.count)
                try emit(chunk)
            }
        }
        return DeltaSummary(literalBytes: job.literalBytes, copiedBytes: job.copiedBytes, deltaBytes: bytes)
    }

    /// Applies the delta read from `delta` to `base`, writing the new file to `output`.
    /// - Parameters:
    ///   - base: readable descriptor of the base (read with `pread`, offset untouched).
    ///   - delta: readable descriptor of the delta (current offset to EOF).
    ///   - output: writable descriptor of a new, empty regular file.
    ///   - sparse: skip writing 4 KiB runs of zeros (holes), then set the final size; keeps
    ///     sparse images sparse. Only for an empty regular file.
    /// - Returns: the new file's size.
    /// - Throws: `DeltaError` from the patch, `.ioError` from reading or writing.
    @discardableResult
    public static func patch(
        base: FileDescriptor, delta: FileDescriptor, output: FileDescriptor, sparse: Bool = true
    ) throws -> Int64 {
        let job = try Patcher(base: base)
        let writer = FileWriter(fd: output, sparse: sparse)
        try forEachChunk(of: delta, what: "delta") { try job.feed($0, isLast: $1, emit: writer.write) }
        try writer.finish()
        return writer.offset
    }
}

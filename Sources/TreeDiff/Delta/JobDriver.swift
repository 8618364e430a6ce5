/// Drives one librsync job with `rs_job_iter` over caller-supplied input and a fixed output
/// buffer, so memory stays constant whatever the stream length.
///
/// Not thread-safe: one job belongs to one task at a time (the public job types are not Sendable).
final class JobDriver {
    /// Size of the output buffer each job owns; `emit` never sees a larger chunk.
    static let outputCapacity = 256 * 1024
    /// Most input kept between `feed` calls when librsync leaves some unconsumed.
    static let maxPendingInput = 4 * 1024 * 1024

    private let handle: LibrsyncJobHandle
    private let output: UnsafeMutableRawBufferPointer
    /// Input librsync did not take on an earlier `feed`; offered again first.
    private var pending: [UInt8] = []
    private(set) var isFinished = false
    private var failure: DeltaError?
    /// Context for errors, e.g. "computing delta".
    let context: String
    /// Maps a librsync I/O failure to the real errno when a callback knows it.
    var ioErrno: () -> Int32? = { nil }

    init(handle: LibrsyncJobHandle, context: String) {
        self.handle = handle
        self.context = context
        output = .allocate(byteCount: JobDriver.outputCapacity, alignment: 16)
    }

    deinit { output.deallocate() }

    var statistics: (literalBytes: Int64, copiedBytes: Int64, inBytes: Int64, outBytes: Int64) {
        handle.statistics
    }

    /// Feeds input to the job and hands every output chunk to `emit`.
    /// - Parameters:
    ///   - input: the next bytes of the input stream (may be empty).
    ///   - isLast: no input follows; the job must finish during this call.
    ///   - emit: receives output chunks of at most `outputCapacity` bytes, valid only during the call.
    /// - Throws: `DeltaError` from librsync, or whatever `emit` throws (the job is then unusable).
    func feed(_ input: UnsafeRawBufferPointer, isLast: Bool,
              emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let failure { throw failure }
        if isFinished {
            if input.isEmpty { return }
            throw fail(.corrupt, "bytes after the end of the stream")
        }
        do {
            if pending.isEmpty {
                let left = try run(input, isLast: isLast, emit: emit)
                if left > 0 { pending.append(contentsOf: input.suffix(left)) }
            } else {
                pending.append(contentsOf: input)
                let all = pending
                let left = try all.withUnsafeBytes { try run($0, isLast: isLast, emit: emit) }
                pending = Array(all.suffix(left))
            }
            if pending.count > JobDriver.maxPendingInput {
                throw fail(.internal(result: 107), "librsync stopped taking input")
            }
        } catch let error as DeltaError {
            failure = error
            throw error
        } catch {
            failure = DeltaError(.misuse, context: "\(context): output consumer failed (\(error))")
            throw error
        }
    }

    private func fail(_ code: DeltaError.Code, _ detail: String) -> DeltaError {
        let e = DeltaError(code, context: "\(context): \(detail)")
        failure = e
        return e
    }

    /// Runs the job over `input`; returns how many trailing bytes it left unconsumed.
    private func run(_ input: UnsafeRawBufferPointer, isLast: Bool,
                     emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var buffers = LibrsyncBuffers(
            nextIn: input.baseAddress, availIn: input.count, endOfInput: isLast,
            nextOut: output.baseAddress!, availOut: output.count)
        while true {
            let inBefore = buffers.availIn
            let step = handle.iterate(&buffers)
            let produced = output.count - buffers.availOut
            if produced > 0 {
                try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
                buffers.nextOut = output.baseAddress!
                buffers.availOut = output.count
            }
            switch step {
            case .done:
                isFinished = true
                if buffers.availIn > 0 { throw fail(.corrupt, "bytes after the end of the stream") }
                return 0
            case .failed(var code):
                if case .ioError = code, let e = ioErrno() { code = .ioError(errno: e) }
                throw fail(code, "librsync failed")
            case .blocked:
                let progressed = produced > 0 || buffers.availIn != inBefore
                if progressed { continue }
                if isLast { throw fail(.inputEnded, "stream ended before the job finished") }
                return buffers.availIn
            }
        }
    }
}

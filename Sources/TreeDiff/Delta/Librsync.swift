// All raw librsync calls of the package live in this file, as thin typed wrappers.
// Nothing here is public: the rest of TreeDiff sees `LibrsyncJobHandle`, `LibrsyncSignatureHandle`
// and plain Swift values, never an `rs_` type.

@preconcurrency internal import CLibrsync

/// The outcome of one `rs_job_iter` step, mapped from `rs_result`.
enum LibrsyncStep {
    case done
    case blocked
    case failed(DeltaError.Code)
}

/// The in/out buffer pair handed to `rs_job_iter`, as plain Swift values.
struct LibrsyncBuffers {
    var nextIn: UnsafeRawPointer?
    var availIn: Int
    var endOfInput: Bool
    var nextOut: UnsafeMutableRawPointer
    var availOut: Int
}

/// Signature format numbers, as `rs_magic_number` values.
enum Librsync {
    static let deltaMagic: UInt32 = RS_DELTA_MAGIC.rawValue
    static let md4Magic: UInt32 = RS_MD4_SIG_MAGIC.rawValue
    static let blake2Magic: UInt32 = RS_BLAKE2_SIG_MAGIC.rawValue
    static let rabinKarpMD4Magic: UInt32 = RS_RK_MD4_SIG_MAGIC.rawValue
    static let rabinKarpBlake2Magic: UInt32 = RS_RK_BLAKE2_SIG_MAGIC.rawValue
    static let maxStrongLength = Int(RS_MAX_STRONG_SUM_LENGTH)

    /// The library version string (`rs_librsync_version`).
    static var version: String {
        String(cString: cm_rs_librsync_version())
    }

    /// Wraps `rs_strerror`.
    static func describe(rawResult: Int32) -> String {
        String(cString: rs_strerror(rs_result(rawValue: UInt32(bitPattern: rawResult))))
    }

    /// Wraps `rs_sig_args`: checks (or completes, for zeros) signature arguments.
    /// - Returns: nil when librsync accepts them, else the error code it gave.
    static func checkSignatureArguments(
        fileSize: Int64, magic: UInt32, blockLength: Int, strongLength: Int
    ) -> DeltaError.Code? {
        var m = rs_magic_number(rawValue: magic)
        var block = blockLength
        var strong = strongLength
        let r = rs_sig_args(rs_long_t(fileSize), &m, &block, &strong)
        return r == RS_DONE ? nil : code(for: r)
    }

    /// Maps an `rs_result` error to a `DeltaError.Code`.
    static func code(for result: rs_result) -> DeltaError.Code {
        switch result {
        case RS_BAD_MAGIC: return .badMagic
        case RS_CORRUPT: return .corrupt
        case RS_INPUT_ENDED: return .inputEnded
        case RS_IO_ERROR: return .ioError(errno: 5 /* EIO */)
        case RS_PARAM_ERROR: return .invalidParameters
        default: return .internal(result: Int32(bitPattern: result.rawValue))
        }
    }
}

/// Silences librsync's own error log on stderr (errors reach callers as `DeltaError`);
/// evaluated once, before the first job starts (`rs_trace_set_level`).
private let quietLibrsync: Void = rs_trace_set_level(RS_LOG_CRIT)

/// Owns one `rs_job_t`; frees it with `rs_job_free` in deinit.
final class LibrsyncJobHandle {
    private let job: OpaquePointer

    private init(_ job: OpaquePointer) {
        _ = quietLibrsync
        self.job = job
    }

    deinit { _ = rs_job_free(job) }

    /// Wraps `rs_sig_begin`.
    static func signature(blockLength: Int, strongLength: Int, magic: UInt32) -> LibrsyncJobHandle? {
        rs_sig_begin(blockLength, strongLength, rs_magic_number(rawValue: magic)).map(LibrsyncJobHandle.init)
    }

    /// Wraps `rs_delta_begin`; the handle keeps the signature alive until the job is freed.
    static func delta(signature: LibrsyncSignatureHandle) -> LibrsyncJobHandle? {
        let handle = rs_delta_begin(signature.pointer).map(LibrsyncJobHandle.init)
        handle?.keepAlive = signature
        return handle
    }

    /// Wraps `rs_loadsig_begin`, which allocates the `rs_signature_t` into `sink.slot` and
    /// fills it as the job runs; `sink` frees it, and the handle keeps `sink` alive until the
    /// job is freed.
    static func loadSignature(into sink: LibrsyncSignatureSink) -> LibrsyncJobHandle? {
        let handle = rs_loadsig_begin(sink.slot).map(LibrsyncJobHandle.init)
        handle?.keepAlive = sink
        return handle
    }

    /// Wraps `rs_patch_begin`; `patchCopyCallback` reads the base through `base`, which this
    /// handle keeps alive (it is passed to C unretained).
    static func patch(base: LibrsyncBaseSource) -> LibrsyncJobHandle? {
        let job = rs_patch_begin(patchCopyCallback, Unmanaged.passUnretained(base as AnyObject).toOpaque())
        guard let job else { return nil }
        let handle = LibrsyncJobHandle(job)
        handle.keepAlive = base
        return handle
    }

    /// What the C job points into (signature, signature slot or patch base): released only
    /// after `rs_job_free` has run in deinit.
    private var keepAlive: AnyObject?

    /// Wraps `rs_job_iter`: runs the job until it blocks, finishes or fails.
    func iterate(_ buffers: inout LibrsyncBuffers) -> LibrsyncStep {
        var raw = rs_buffers_t(
            next_in: UnsafeMutablePointer(mutating: buffers.nextIn?.assumingMemoryBound(to: CChar.self)),
            avail_in: buffers.availIn,
            eof_in: buffers.endOfInput ? 1 : 0,
            next_out: buffers.nextOut.assumingMemoryBound(to: CChar.self),
            avail_out: buffers.availOut)
        let r = rs_job_iter(job, &raw)
        buffers.nextIn = raw.next_in.map { UnsafeRawPointer($0) }
        buffers.availIn = raw.avail_in
        buffers.nextOut = UnsafeMutableRawPointer(raw.next_out)
        buffers.availOut = raw.avail_out
        switch r {
        case RS_DONE: return .done
        case RS_BLOCKED: return .blocked
        default: return .failed(Librsync.code(for: r))
        }
    }

    /// Wraps `rs_job_statistics`: literal and copied bytes so far.
    var statistics: (literalBytes: Int64, copiedBytes: Int64, inBytes: Int64, outBytes: Int64) {
        guard let s = rs_job_statistics(job)?.pointee else { return (0, 0, 0, 0) }
        return (Int64(s.lit_bytes), Int64(s.copy_bytes), Int64(s.in_bytes), Int64(s.out_bytes))
    }
}

/// What reading the base file for a patch produced.
enum LibrsyncCopyOutcome {
    /// This many bytes (at least 1) were placed in the buffer.
    case copied(Int)
    /// The base ends before the position the delta asks for.
    case endOfBase
    /// Reading failed; the source remembers the errno.
    case ioError
}

/// The base file of a patch, read at the offsets the delta's COPY commands name.
protocol LibrsyncBaseSource: AnyObject {
    func copy(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) -> LibrsyncCopyOutcome
}

/// The `rs_copy_cb` given to `rs_patch_begin`: fills librsync's buffer (`*buf`, `*len` bytes)
/// from the `LibrsyncBaseSource` behind `opaque`, shortening `*len` on a short read.
private func patchCopyCallback(
    _ opaque: UnsafeMutableRawPointer?, _ pos: rs_long_t, _ len: UnsafeMutablePointer<Int>?,
    _ buf: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> rs_result {
    guard let opaque, let len, let buf, let target = buf.pointee, pos >= 0 else { return RS_INTERNAL_ERROR }
    let source = Unmanaged<AnyObject>.fromOpaque(opaque).takeUnretainedValue() as! LibrsyncBaseSource
    switch source.copy(at: Int64(pos), into: UnsafeMutableRawBufferPointer(start: target, count: len.pointee)) {
    case .copied(let n):
        len.pointee = n
        return RS_DONE
    case .endOfBase:
        return RS_INPUT_ENDED
    case .ioError:
        return RS_IO_ERROR
    }
}

/// The slot `rs_loadsig_begin` fills with a new `rs_signature_t*`; frees it with `rs_free_sumset`.
final class LibrsyncSignatureSink {
    let slot: UnsafeMutablePointer<OpaquePointer?>

    init() {
        slot = .allocate(capacity: 1)
        slot.initialize(to: nil)
    }

    deinit {
        if let sig = slot.pointee { rs_free_sumset(sig) }
        slot.deallocate()
    }

    /// Hands the loaded signature to a `LibrsyncSignatureHandle`, leaving the slot empty.
    func take() -> LibrsyncSignatureHandle? {
        guard let sig = slot.pointee else { return nil }
        slot.pointee = nil
        return LibrsyncSignatureHandle(sig)
    }
}

/// Owns one loaded `rs_signature_t`; frees it with `rs_free_sumset` in deinit.
final class LibrsyncSignatureHandle {
    let pointer: OpaquePointer

    fileprivate init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { rs_free_sumset(pointer) }

    /// Wraps `rs_build_hash_table`: indexes the loaded blocks so deltas can search them.
    func buildHashTable() -> DeltaError.Code? {
        let r = rs_build_hash_table(pointer)
        return r == RS_DONE ? nil : Librsync.code(for: r)
    }
}

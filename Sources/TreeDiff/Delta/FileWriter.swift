import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a stream to a file at increasing offsets, optionally leaving holes where the data
/// is zero, checked per 4 KiB page of the file (the file's size is fixed by `finish()`).
public final class FileWriter {
    /// Granularity of holes: one page.
    public static let pageSize = 4096

    /// The descriptor written to (not closed here).
    public let fd: FileDescriptor
    /// Whether zero pages are skipped.
    public let sparse: Bool
    /// Bytes of stream written so far (the file's size after `finish()`).
    public private(set) var offset: Int64 = 0

    /// - Parameters:
    ///   - fd: a writable descriptor; with `sparse`, of an empty regular file.
    ///   - sparse: skip writing whole zero pages.
    public init(fd: FileDescriptor, sparse: Bool) {
        self.fd = fd
        self.sparse = sparse
    }

    /// Writes the next chunk of the stream.
    /// - Throws: `DeltaError` `.ioError` (e.g. ENOSPC).
    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard sparse else { return try writeAll(chunk) }
        var start = 0
        while start < chunk.count {
            // Pages are aligned to file offsets so holes line up with the filesystem's blocks.
            let pageEnd = Int((offset / Int64(Self.pageSize) + 1) * Int64(Self.pageSize) - offset)
            let n = min(pageEnd, chunk.count - start)
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<start + n])
            // Any all-zero piece can be skipped: the file started empty, so it reads as zeros.
            if ZeroChunk.isZero(piece) {
                offset += Int64(n)
            } else {
                try writeAll(piece)
            }
            start += n
        }
    }

    /// Leaves `count` zero bytes as a hole (sparse writers only; the file started empty).
    public func skip(_ count: Int64) {
        precondition(sparse && count >= 0, "skip needs a sparse writer")
        offset += count
    }

    private func writeAll(_ piece: UnsafeRawBufferPointer) throws {
        do {
            var done = 0
            while done < piece.count {
                done += try fd.write(toAbsoluteOffset: offset + Int64(done),
                                     UnsafeRawBufferPointer(rebasing: piece[done...]),
                                     retryOnInterrupt: true)
            }
            offset += Int64(piece.count)
        } catch let e as Errno {
            throw DeltaError(.ioError(errno: e.rawValue), context: "writing output at offset \(offset)")
        }
    }

    /// Sets the file's size to the bytes written (needed when it ends in a hole).
    /// - Throws: `DeltaError` `.ioError`.
    public func finish() throws {
        guard sparse else { return }
        do {
            try fd.resize(to: offset, retryOnInterrupt: true)
        } catch let e as Errno {
            throw DeltaError(.ioError(errno: e.rawValue), context: "setting output size to \(offset)")
        }
    }
}

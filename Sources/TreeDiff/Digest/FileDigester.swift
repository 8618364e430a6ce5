import SystemPackage

/// One run of data in a sparse file; everything outside the extents of a file is a hole.
public struct DataExtent: Sendable, Hashable, Codable {
    /// Byte offset of the data run.
    public var offset: Int64
    /// Length of the data run in bytes (greater than zero).
    public var length: Int64

    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }

    /// One past the last byte of the run.
    public var end: Int64 { offset + length }

    /// The sole extent of a file that is one hole from start to end (no data at all), so that
    /// "no extents" keeps meaning "dense".
    public static let allHole = DataExtent(offset: 0, length: 0)

    /// The runs of data to read or write for a file of `size` bytes with these recorded
    /// extents: the whole file when they are empty (dense), none for `[allHole]`.
    public static func dataRuns(of extents: [DataExtent], size: Int64) -> [DataExtent] {
        extents.isEmpty ? (size > 0 ? [DataExtent(offset: 0, length: size)] : []) : extents.filter { $0.length > 0 }
    }
}

/// The digest of a file's content and where its data lies.
public struct FileDigestResult: Sendable, Hashable {
    /// The content digest (holes hash as zeros).
    public var digest: ContentDigest
    /// The data extents when the file has holes; empty when it is fully allocated;
    /// `[DataExtent.allHole]` when it has no data at all.
    public var extents: [DataExtent]
    /// How many bytes were actually read (data extents only).
    public var bytesRead: Int64
}

/// A failure while digesting an open file.
public struct FileDigestError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// `pread` or `lseek` failed with this errno.
        case readFailed(Errno)
        /// The file ended before its recorded size: it was truncated while being read.
        case shortRead
    }
    public var code: Code
    /// The byte offset where reading stopped.
    public var offset: Int64

    public var description: String {
        switch code {
        case .readFailed(let errno): "reading file data at offset \(offset) failed: \(errno); check the disk and retry"
        case .shortRead: "file ended at offset \(offset), before its size: it changed while being read; rescan"
        }
    }
}

/// Digests an open regular file, reading only its data extents (`lseek` `SEEK_DATA`/`SEEK_HOLE`).
public enum FileDigester {
    /// Digests the first `size` bytes of an open file.
    ///
    /// Holes (found with `lseek(SEEK_DATA)`/`lseek(SEEK_HOLE)`, only when `st_blocks` shows the
    /// file is not fully allocated) are hashed as zeros without being read; data is read with
    /// `pread` in 1 MiB chunks.
    /// - Parameters:
    ///   - fileDescriptor: a descriptor open for reading; its offset is not used or changed.
    ///   - size: the file size from `fstat` taken before this call.
    ///   - allocatedBytes: `st_blocks * 512`, or nil to always look for holes.
    /// - Returns: the digest, the data extents (empty when dense) and the bytes read.
    /// - Throws: `FileDigestError` when a read fails or the file is shorter than `size`.
    public static func digest(of fileDescriptor: FileDescriptor, size: Int64, allocatedBytes: Int64? = nil) throws(FileDigestError) -> FileDigestResult {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ContentHasher.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        return try digest(fd: fileDescriptor.rawValue, size: size, allocatedBytes: allocatedBytes, buffer: buffer)
    }

    /// The allocation-free core used by the scanner: `buffer` is a reusable read buffer.
    static func digest(fd: CInt, size: Int64, allocatedBytes: Int64?, buffer: UnsafeMutableRawBufferPointer) throws(FileDigestError) -> FileDigestResult {
        var hasher = ContentHasher()
        var bytesRead: Int64 = 0
        let extents: [DataExtent]
        if let allocatedBytes, allocatedBytes >= size {
            extents = []
        } else {
            extents = try dataExtents(fd: fd, size: size)
        }
        let runs = extents.isEmpty && (allocatedBytes ?? 0) >= size ? [DataExtent(offset: 0, length: size)] : extents
        var position: Int64 = 0
        for run in runs {
            hasher.updateZeros(count: run.offset - position)
            position = run.offset
            while position < run.end {
                let want = Int(min(Int64(buffer.count), run.end - position))
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<want])
                switch Sys.readAt(fd, slice, offset: position) {
                case .failure(let errno): throw FileDigestError(code: .readFailed(errno), offset: position)
                case .success(0): throw FileDigestError(code: .shortRead, offset: position)
                case .success(let count):
                    hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    position += Int64(count)
                    bytesRead += Int64(count)
                }
            }
        }
        hasher.updateZeros(count: size - position)
        let dense = runs.count == 1 && runs[0].offset == 0 && runs[0].length == size
        let recorded = dense || size == 0 ? [] : extents.isEmpty ? [DataExtent.allHole] : extents
        return FileDigestResult(digest: hasher.finalize(), extents: recorded, bytesRead: bytesRead)
    }

    /// The data extents of the first `size` bytes (`lseek` `SEEK_DATA`/`SEEK_HOLE`).
    /// A file system without hole support reports the whole file as one extent.
    static func dataExtents(fd: CInt, size: Int64) throws(FileDigestError) -> [DataExtent] {
        var extents: [DataExtent] = []
        var offset: Int64 = 0
        while offset < size {
            let dataStart: Int64
            switch Sys.seekData(fd, from: offset) {
            case .failure(let errno): throw FileDigestError(code: .readFailed(errno), offset: offset)
            case .success(nil): return extents
            case .success(let start?): dataStart = start
            }
            if dataStart >= size { break }
            let holeStart: Int64
            switch Sys.seekHole(fd, from: dataStart) {
            case .failure(let errno): throw FileDigestError(code: .readFailed(errno), offset: dataStart)
            case .success(nil): holeStart = size
            case .success(let start?): holeStart = min(start, size)
            }
            extents.append(DataExtent(offset: dataStart, length: holeStart - dataStart))
            offset = holeStart
        }
        return extents
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension Manifest {
    /// Loads and validates a manifest file.
    /// - Parameter file: the manifest file path.
    /// - Throws: `ManifestError` carrying `file`: `.io` when it cannot be read, otherwise the
    ///   decoding codes of `init(decoding:)`.
    public static func load(from file: String) throws(ManifestError) -> Manifest {
        let bytes: [UInt8]
        do {
            let fd = try FileDescriptor.open(FilePath(file), .readOnly, options: [.closeOnExec])
            defer { try? fd.close() }
            var data: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
                if count == 0 { break }
                data.append(contentsOf: chunk[..<count])
            }
            bytes = data
        } catch let errno as Errno {
            throw ManifestError(code: .io(errno), file: file, detail: "reading")
        } catch {
            throw ManifestError(code: .io(.ioError), file: file, detail: "reading")
        }
        do {
            return try Manifest(decoding: bytes)
        } catch var error {
            error.file = file
            throw error
        }
    }

    /// Saves the manifest atomically: writes `<file>.tmp-<pid>`, fsyncs it, renames it over
    /// `file` and fsyncs the directory, so a crash leaves either the old or the new manifest.
    /// - Parameter file: the destination path; its directory must exist.
    /// - Throws: `ManifestError` with `.io` and the file path.
    public func save(to file: String) throws(ManifestError) {
        let bytes = encoded()
        let path = FilePath(file)
        let temporary = file + ".tmp-\(getpid())"
        var step = "creating \(temporary)"
        do {
            let fd = try FileDescriptor.open(FilePath(temporary), .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
            do {
                step = "writing \(temporary)"
                _ = try fd.writeAll(bytes)
                step = "syncing \(temporary)"
                if fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
                step = "closing \(temporary)"
                try fd.close()
            } catch {
                try? fd.close()
                _ = unlink(temporary)
                throw error
            }
            step = "renaming \(temporary) into place"
            if rename(temporary, file) != 0 {
                let error = Errno(rawValue: errno)
                _ = unlink(temporary)
                throw error
            }
            step = "syncing the directory"
            let directory = path.removingLastComponent()
            let dirfd = try FileDescriptor.open(directory.isEmpty ? "." : directory, .readOnly, options: [.directory, .closeOnExec])
            defer { try? dirfd.close() }
            if fsync(dirfd.rawValue) != 0 { throw Errno(rawValue: errno) }
        } catch let errno as Errno {
            throw ManifestError(code: .io(errno), file: file, detail: step)
        } catch {
            throw ManifestError(code: .io(.ioError), file: file, detail: step)
        }
    }
}

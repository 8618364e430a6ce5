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
            bytes = try AtomicFile.read(file, limit: Int.max, followSymlink: true)
        } catch {
            throw ManifestError(code: .io(error as? Errno ?? .ioError), file: file, detail: "reading")
        }
        do {
            return try Manifest(decoding: bytes)
        } catch var error {
            error.file = file
            throw error
        }
    }

    /// Saves the manifest atomically (`AtomicFile.write`: temp file, fsync, rename, fsync of
    /// the directory), so a crash leaves either the old or the new manifest.
    /// - Parameter file: the destination path; its directory must exist.
    /// - Throws: `ManifestError` with `.io` and the file path.
    public func save(to file: String) throws(ManifestError) {
        do {
            try AtomicFile.write(encoded(), to: file)
        } catch {
            throw ManifestError(code: .io(error as? Errno ?? .ioError), file: file, detail: "saving")
        }
    }
}

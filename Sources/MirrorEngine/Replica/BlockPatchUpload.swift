#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import TreeDiff

/// Rebuilds a large file from the replica's older version and an incoming block patch, into
/// a staged object (the live file is only read).
final class BlockPatchUpload {
    let request: PutDelta
    let store: ObjectStore
    private let base: FileDescriptor
    private let output: FileDescriptor
    private let applier: BlockPatchApplier

    init(store: ObjectStore, request: PutDelta, base: FileDescriptor) throws {
        self.store = store
        self.request = request
        self.base = base
        do {
            output = try store.createPart(request.target)
        } catch {
            try? base.close()
            throw error
        }
        do {
            applier = try BlockPatchApplier(base: base, output: output, size: request.size, context: "object \(request.target)")
        } catch {
            try? base.close()
            try? output.close()
            throw error
        }
    }

    deinit {
        try? base.close()
        try? output.close()
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        try applier.feed(chunk)
    }

    /// Ends the patch, checks the digest computed while writing, and makes the result a
    /// complete object (synced with the commit).
    func finish() throws {
        let digest = try applier.finish()
        guard digest == request.target else {
            throw ReplicaError(.digestMismatch, path: "object \(request.target)", detail: "patch produced \(digest)")
        }
        try store.complete(request.target)
    }

    func abandon() { store.discard(request.target) }

    /// The replica error a failed patch is reported as (so the master resends it whole, or
    /// stops on a full disk).
    static func replicaError(_ error: any Error, _ request: PutDelta) -> any Error {
        guard let e = error as? BlockError else { return error }
        let path = "object \(request.target)"
        switch e.code {
        case .io(let errno) where errno == .noSpace:
            return ReplicaError(.noSpace, path: path, detail: "the disk filled while patching; free space and run again")
        case .digestMismatch: return ReplicaError(.digestMismatch, path: path, detail: e.description)
        case .badPatch, .corruptMap: return ReplicaError(.badPlan, path: path, detail: e.description)
        case .io, .shortRead: return ReplicaError(.io, path: path, detail: e.description)
        }
    }
}

/// Why a replica refused or failed an operation.
public struct ReplicaError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A path in no configured tree.
        case outsideTrees
        /// A path whose directory inside the tree is a symlink or not a directory.
        case symlinkInPath
        /// Something of another kind where the plan expects a directory.
        case unexpectedEntry
        /// Staged content whose digest differs from the one announced.
        case digestMismatch
        /// Content the new generation needs that is neither staged nor on the replica.
        case missingContent
        /// Not enough free space for what is staged.
        case noSpace
        /// This host is not a replica, or replicates another master.
        case wrongRole
        /// A generation or lineage that does not follow the current one.
        case wrongGeneration
        /// A journal or state file that cannot be read.
        case corruptState
        /// A delta whose base is not on the replica.
        case missingBase
        /// A plan or manifest that contradicts itself or is hostile.
        case badPlan
        /// A read or write failed.
        case io
    }

    public var code: Code
    public var path: String
    public var detail: String

    public init(_ code: Code, path: String, detail: String = "") {
        self.code = code
        self.path = path
        self.detail = detail
    }

    public var description: String {
        let what: String = switch code {
        case .outsideTrees: "is outside the replica's configured trees"
        case .symlinkInPath: "goes through something that is not a real directory"
        case .unexpectedEntry: "is in the way"
        case .digestMismatch: "arrived with content that does not match its digest"
        case .missingContent: "has no staged content"
        case .noSpace: "not enough free space"
        case .wrongRole: "refused"
        case .wrongGeneration: "generation does not follow"
        case .corruptState: "state is damaged"
        case .missingBase: "has no base for its delta"
        case .badPlan: "is refused"
        case .io: "I/O failed"
        }
        return detail.isEmpty ? "\(path): \(what)" : "\(path): \(what) (\(detail))"
    }
}

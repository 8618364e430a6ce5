import Foundation

/// Why a failover step (promote, disable) was refused.
public struct FailoverError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// `replica promote` on a host that is not a replica.
        case notReplica
        /// `master disable` on a host that is not a master.
        case notMaster
        /// The replica never completed a generation: there is nothing to promote.
        case noGeneration
        /// The recorded old master still answers: it may still be the master.
        case oldMasterAnswers
        /// This master has replication turned off (`master disable`).
        case disabled
        /// A `--master-host` value that is not `HOST[:PORT]`.
        case badAddress
    }

    public var code: Code
    /// What it is about: a host, a state directory, a role.
    public var subject: String
    public var detail: String

    public init(_ code: Code, subject: String, detail: String = "") {
        self.code = code
        self.subject = subject
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .notReplica:
            return "this host is not a replica (role \(subject)); only a replica can be promoted"
        case .notMaster:
            return "this host is not a master (role \(subject)); nothing to disable"
        case .noGeneration:
            return "this replica never received a complete generation (\(subject)); promoting it would make an empty master. Use --force to promote it anyway"
        case .oldMasterAnswers:
            return "the old master \(subject) still answers\(detail.isEmpty ? "" : " (\(detail))"): run `cloudmin-mirror master disable` there first, or pass --force if you are sure it is dead"
        case .disabled:
            return "replication is turned off on this master (`master disable`, \(subject)); it no longer sends. Run `cloudmin-mirror master disable --undo` to turn it back on"
        case .badAddress:
            return "\(subject): not a HOST[:PORT] address (\(detail)); give e.g. master.example.net or 10.0.0.1:2222 or [2001:db8::1]:22"
        }
    }
}

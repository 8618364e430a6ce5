/// One built-in exclusion: what must never leave the master, and why.
public struct CloudminExclusion: Sendable, Hashable, CustomStringConvertible {
    /// Why the rule exists.
    public enum Kind: Sendable, Hashable {
        /// `collected/0`: the master's own status.
        case masterStatus
        /// The master's own settings file (`this`).
        case masterSettings
        /// The licence file.
        case licence
        /// `*.lock`: a Webmin lock holding a PID.
        case lockFile
        /// `*.webmintmp.*`: a file Webmin is still writing.
        case webminTempFile
        /// A guest hosted on the master (`parent=0`): its record and other files in the
        /// config directory, not its status.
        case guestOnMaster(systemID: String)
        /// The record of an image not stored on the master.
        case remoteImageRecord(record: String, location: String)
        /// The payload of an image not stored on the master.
        case remoteImagePayload(record: String, location: String)

        /// The reason, in a sysadmin's words.
        public var reason: String {
            switch self {
            case .masterStatus: return "the master's own status (system 0) is never replicated"
            case .masterSettings: return "the master's own settings are never replicated"
            case .licence: return "the licence belongs to this master only"
            case .lockFile: return "Webmin lock file (holds a PID on this host)"
            case .webminTempFile: return "Webmin temporary file, still being written"
            case let .guestOnMaster(id):
                return "system \(id) is hosted on the master itself (parent=0): only its status is replicated"
            case let .remoteImageRecord(record, location):
                return "image \(record) is stored in \(location), not on the master"
            case let .remoteImagePayload(record, location):
                return "payload of image \(record), which is stored in \(location), not on the master"
            }
        }
    }

    public let kind: Kind
    /// The exclude rule, with `.builtIn(reason:)` as its source.
    public let rule: FilterRule

    /// Creates an exclusion for a pattern (see `FilterPattern`).
    public init(_ kind: Kind, pattern: String) {
        self.kind = kind
        self.rule = FilterRule(.exclude, pattern, source: .builtIn(reason: kind.reason))
    }

    /// `"- /etc/webmin/server-manager/this" (built-in: ...)`.
    public var description: String { rule.description }
}

/// A record the built-in rules could not use. The run goes on; the warning says which way
/// the record was treated.
public struct CloudminWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A record is a symlink, too large, binary or unreadable: it is replicated as is.
        case unreadableRecord
        /// A system record's `id` differs from its file name: it is replicated as is.
        case idMismatch
        /// An image record has no location: it and its payload are replicated.
        case missingImageLocation
        /// An image payload path leaves the image store: no payload rule is made from it.
        case payloadOutsideStore
        /// A directory the rules read could not be listed: no rules come from it.
        case unreadableDirectory
    }

    public let code: Code
    /// The root-relative file or directory.
    public let path: String
    public let detail: String

    public var description: String {
        switch code {
        case .unreadableRecord:
            return "\(path): \(detail); the record is replicated as is, check it on the master"
        case .idMismatch:
            return "\(path): \(detail); the record is replicated as is, check it on the master"
        case .missingImageLocation:
            return "\(path): no location= key; the image is treated as stored on the master and replicated"
        case .payloadOutsideStore:
            return "\(path): payload path \"\(detail)\" is outside the image store; it is ignored, nothing outside the store is excluded or read"
        case .unreadableDirectory:
            return "\(path): cannot list the directory (\(detail)); no built-in rules come from it"
        }
    }
}

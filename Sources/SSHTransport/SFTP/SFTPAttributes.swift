/// File attributes as SFTP (protocol version 3) carries them; `nil` means "not reported" when
/// read and "leave unchanged" when passed to `setstat`.
public struct SFTPAttributes: Sendable, Equatable {
    /// Size in bytes.
    public var size: UInt64?
    /// Numeric owner.
    public var uid: UInt32?
    /// Numeric group.
    public var gid: UInt32?
    /// `st_mode`: file type bits and permission bits.
    public var permissions: UInt32?
    /// Access time, seconds since the epoch.
    public var accessTime: UInt64?
    /// Modification time, seconds since the epoch.
    public var modificationTime: UInt64?

    public init(size: UInt64? = nil, uid: UInt32? = nil, gid: UInt32? = nil, permissions: UInt32? = nil,
                accessTime: UInt64? = nil, modificationTime: UInt64? = nil) {
        self.size = size
        self.uid = uid
        self.gid = gid
        self.permissions = permissions
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }

    /// The kind of file, from the type bits of `permissions`.
    public enum FileType: Sendable, Equatable {
        case regular, directory, symlink, other, unknown
    }

    /// The kind of file; `.unknown` when the server sent no permissions.
    public var fileType: FileType {
        guard let p = permissions else { return .unknown }
        switch p & 0o170000 {
        case 0o100000: return .regular
        case 0o040000: return .directory
        case 0o120000: return .symlink
        default: return .other
        }
    }

    /// The permission bits (`permissions & 0o7777`).
    public var mode: UInt32? { permissions.map { $0 & 0o7777 } }
}

/// Free space and limits of a remote file system (OpenSSH `statvfs@openssh.com`).
public struct SFTPFileSystemStats: Sendable, Equatable {
    public var blockSize: UInt64
    public var fragmentSize: UInt64
    public var blocks: UInt64
    public var freeBlocks: UInt64
    /// Blocks available to an unprivileged user.
    public var availableBlocks: UInt64
    public var files: UInt64
    public var freeFiles: UInt64
    public var maxNameLength: UInt64

    /// Bytes available to an unprivileged user (`f_bavail * f_frsize`).
    public var availableBytes: UInt64 { availableBlocks &* (fragmentSize == 0 ? blockSize : fragmentSize) }
}

/// How to open a remote file (SSH_FXF_* flags).
public struct SFTPOpenFlags: OptionSet, Sendable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let read = SFTPOpenFlags(rawValue: 0x01)
    public static let write = SFTPOpenFlags(rawValue: 0x02)
    public static let append = SFTPOpenFlags(rawValue: 0x04)
    public static let create = SFTPOpenFlags(rawValue: 0x08)
    public static let truncate = SFTPOpenFlags(rawValue: 0x10)
    /// Fail if the file exists (with `.create`).
    public static let exclusive = SFTPOpenFlags(rawValue: 0x20)
}

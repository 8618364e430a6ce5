import SystemPackage

/// A block map or block patch that cannot be built, read or applied.
public struct BlockError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A stored or received block map is damaged (bad magic, checksum, bounds).
        case corruptMap
        /// A patch stream is malformed: unknown op, a run past the file's size, data missing.
        case badPatch
        /// The patched content does not have the digest it was sent for.
        case digestMismatch
        /// The file ended before the size it was scanned with: it changed while being read.
        case shortRead
        /// A read or write failed with this errno.
        case io(Errno)
    }

    public var code: Code
    /// What was being worked on (a path, an object digest).
    public var context: String

    public init(_ code: Code, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String {
        switch code {
        case .corruptMap: "\(context): block map is damaged; it is rebuilt from the file on the next run"
        case .badPatch: "\(context): malformed block patch; nothing was applied, the file goes whole next time"
        case .digestMismatch: "\(context): patched content does not match its digest; the file goes whole next time"
        case .shortRead: "\(context): file ended early, it changed while being read; the next run sends its new content"
        case .io(let errno): "\(context): \(errno); check the disk and run again"
        }
    }
}

import SystemPackage

/// An error from the delta engine (signature, delta, patch) or its file helpers.
public struct DeltaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for code to branch on.
    public enum Code: Sendable, Hashable {
        /// The stream does not start with the expected librsync magic (wrong kind of file,
        /// or not a librsync stream at all).
        case badMagic
        /// The stream holds an impossible value (damaged signature or delta, or bytes after
        /// the end of a delta).
        case corrupt
        /// The stream ended early, or a patch's base file is shorter than the delta expects.
        case inputEnded
        /// Reading or writing a file failed with this errno.
        case ioError(errno: Int32)
        /// The block length, strong sum length or magic is not one librsync accepts.
        case invalidParameters
        /// The job was used after it finished or failed.
        case misuse
        /// librsync reported another failure (the raw `rs_result` value).
        case `internal`(result: Int32)
    }

    /// What went wrong.
    public var code: Code
    /// What the engine was doing, e.g. `"patching base /srv/images/a.img"`.
    public var context: String

    public init(_ code: Code, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String {
        let what: String
        let next: String
        switch code {
        case .badMagic:
            what = Librsync.describe(rawResult: 104)
            next = "check that the stream is a librsync signature/delta of the expected kind"
        case .corrupt:
            what = Librsync.describe(rawResult: 106)
            next = "the signature or delta is damaged; regenerate it and send it again"
        case .inputEnded:
            what = Librsync.describe(rawResult: 103)
            next = "the stream was truncated or the base file changed; resend the full stream"
        case .ioError(let e):
            what = "I/O error: \(Errno(rawValue: e))"
            next = "check the file, its permissions and free space, then retry"
        case .invalidParameters:
            what = Librsync.describe(rawResult: 108)
            next = "use DeltaParameters.recommended(forFileSize:) or rdiff-compatible values"
        case .misuse:
            what = "job used after it finished or failed"
            next = "create a new job for each stream"
        case .internal(let r):
            what = "librsync: \(Librsync.describe(rawResult: r)) (result \(r))"
            next = "retry; if it persists, report it with the file that triggers it"
        }
        return "\(context): \(what); \(next)"
    }
}

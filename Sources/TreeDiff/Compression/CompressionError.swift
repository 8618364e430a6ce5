/// An error from the zlib stream compressor or decompressor.
public struct CompressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for code to branch on.
    public enum Code: Sendable, Hashable {
        /// The compressed stream is damaged (bad header, bad data or checksum mismatch),
        /// or has bytes after its end.
        case corrupt
        /// The compressed stream ended before its end marker.
        case truncated
        /// Decompressing would produce more than the allowed number of bytes
        /// (a decompression bomb, or a limit set too low).
        case outputLimitExceeded(limit: Int64)
        /// The level is not 0...9.
        case invalidLevel(Int)
        /// The stream was used after it finished or failed.
        case misuse
        /// zlib could not allocate memory, or reported another error (raw zlib code).
        case `internal`(code: Int32)
    }

    /// What went wrong.
    public var code: Code
    /// What was being done, e.g. `"decompressing delta for images/a.img"`.
    public var context: String

    public init(_ code: Code, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String {
        switch code {
        case .corrupt:
            return "\(context): compressed data is corrupt; resend it from the start"
        case .truncated:
            return "\(context): compressed data ended early; the link was probably cut, resend it"
        case .outputLimitExceeded(let limit):
            return "\(context): decompressed data exceeds the limit of \(limit) bytes; refusing it "
                + "(a damaged or hostile stream, or raise the limit if the data is genuine)"
        case .invalidLevel(let level):
            return "\(context): compression level \(level) is not 0...9; pick 1 (fast) to 9 (small)"
        case .misuse:
            return "\(context): stream used after it finished or failed; create a new one"
        case .internal(let c):
            return "\(context): zlib error \(c) (out of memory?); retry"
        }
    }
}

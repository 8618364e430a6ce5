/// Validation of paths relative to the mirror root.
///
/// Every path a manifest, a change plan or a replica handles is relative to the mirror root:
/// `/`-separated, no leading or trailing `/`, no empty, `.` or `..` component and no NUL byte,
/// for example `etc/webmin/server-manager/12.serv`. A path that passes `validate(_:)` can be
/// appended to a root directory without ever leaving it (symlinks aside: callers still open
/// components with `O_NOFOLLOW`).
public enum RelativePath {
    /// The longest path accepted, in UTF-8 bytes (Linux `PATH_MAX`).
    public static let maxLength = 4096
    /// The longest single component accepted, in UTF-8 bytes (Linux `NAME_MAX`).
    public static let maxComponentLength = 255

    /// Checks that `path` is a valid root-relative path.
    /// - Parameter path: the path to check.
    /// - Throws: `RelativePathError` naming the path and what is wrong with it.
    public static func validate(_ path: String) throws(RelativePathError) {
        var copy = path
        if let problem = copy.withUTF8({ problemIn(UnsafeRawBufferPointer($0)) }) {
            throw RelativePathError(code: problem, path: path)
        }
    }

    /// Whether `path` is a valid root-relative path.
    public static func isValid(_ path: String) -> Bool {
        (try? validate(path)) != nil
    }

    /// Checks raw UTF-8 path bytes; returns what is wrong, or nil when the path is valid.
    static func problemIn(_ bytes: UnsafeRawBufferPointer) -> RelativePathError.Code? {
        if bytes.isEmpty { return .empty }
        if bytes.count > maxLength { return .tooLong }
        if bytes[0] == UInt8(ascii: "/") { return .absolute }
        var componentStart = 0
        for index in 0...bytes.count {
            let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
            if byte == 0 { return .nulByte }
            guard byte == UInt8(ascii: "/") else { continue }
            let length = index - componentStart
            if length == 0 { return .emptyComponent }
            if length > maxComponentLength { return .tooLong }
            if bytes[componentStart] == UInt8(ascii: ".") {
                if length == 1 { return .dotComponent }
                if length == 2 && bytes[componentStart + 1] == UInt8(ascii: ".") { return .dotDotComponent }
            }
            componentStart = index + 1
        }
        return nil
    }

    /// The parent of a valid relative path, or nil for a single-component path.
    public static func parent(of path: String) -> String? {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(path[..<slash])
    }

    /// Whether `path` lies strictly inside `ancestor` (both valid relative paths).
    public static func isInside(_ path: String, ancestor: String) -> Bool {
        let p = path.utf8, a = ancestor.utf8
        return p.count > a.count && p.starts(with: a)
            && p[p.index(p.startIndex, offsetBy: a.count)] == UInt8(ascii: "/")
    }

    /// The manifest order: by the path's UTF-8 bytes (so parents come before children).
    /// Compares contiguous UTF-8 directly (native strings), falling back to the UTF-8 views.
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        let fast = lhs.utf8.withContiguousStorageIfAvailable { l in
            rhs.utf8.withContiguousStorageIfAvailable { r in bytesPrecede(l, r) }
        }
        if let fast, let result = fast { return result }
        return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    @inline(__always)
    static func bytesPrecede(_ l: UnsafeBufferPointer<UInt8>, _ r: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(l.count, r.count)
        var index = 0
        while index < common {
            let a = l[index], b = r[index]
            if a != b { return a < b }
            index += 1
        }
        return l.count < r.count
    }
}

/// A path that is not a valid root-relative path.
public struct RelativePathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the path.
    public enum Code: Sendable, Hashable {
        case empty, absolute, emptyComponent, dotComponent, dotDotComponent, nulByte, tooLong
    }
    /// What is wrong.
    public var code: Code
    /// The offending path.
    public var path: String

    public init(code: Code, path: String) {
        self.code = code
        self.path = path
    }

    public var description: String {
        let why: String
        switch code {
        case .empty: why = "is empty"
        case .absolute: why = "starts with '/'"
        case .emptyComponent: why = "has an empty component ('//' or a trailing '/')"
        case .dotComponent: why = "has a '.' component"
        case .dotDotComponent: why = "has a '..' component"
        case .nulByte: why = "contains a NUL byte"
        case .tooLong: why = "is longer than \(RelativePath.maxLength) bytes or has a component over \(RelativePath.maxComponentLength)"
        }
        return "path '\(path)' \(why); use a path relative to the mirror root such as 'etc/webmin/server-manager'"
    }
}

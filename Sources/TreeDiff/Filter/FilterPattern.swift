/// One rsync include/exclude pattern, compiled once, matched as rsync's `rule_matches()` does.
///
/// - A leading `/` anchors the pattern at the mirror root.
/// - A trailing `/` makes it match directories only.
/// - With no inner `/` and no `**` it matches the final path component; otherwise it matches
///   the whole path (anchored) or a tail of it starting at a component boundary.
/// - `*`, `**`, `?`, `[...]` and `\` as in rsync's wildmatch; a backslash is an escape only
///   when the pattern holds a wildcard (`*`, `?` or `[`), exactly as rsync documents.
/// - `dir/***` matches `dir` itself and everything below it.
public struct FilterPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written in the rule.
    public let text: String
    /// Whether the pattern starts with `/` (matched from the mirror root).
    public let isAnchored: Bool
    /// Whether the pattern ends with `/` (matches directories only).
    public let matchesDirectoriesOnly: Bool

    private let body: [UInt8]          // without the trailing `/` nor the leading `/`
    private let slashCount: Int        // `/` in the pattern, a leading one included
    private let isWild: Bool           // holds `*`, `?` or `[`
    private let hasDoubleStar: Bool    // holds `**`
    private let startsWithDoubleStar: Bool
    private let endsWithTripleStar: Bool
    /// For an anchored wild pattern: its bytes before the first wildcard or backslash, which
    /// a matching path must start with (a cheap reject before wildmatch; a scan matches
    /// thousands of paths against hundreds of per-guest rules).
    private let literalPrefix: [UInt8]

    /// Compiles a pattern.
    /// - Parameter text: the pattern as written after `- ` or `+ ` (must not be empty).
    public init(_ text: String) {
        self.text = text
        var bytes = Array(text.utf8)
        let wild = bytes.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
        var doubleStarAt: Int? = nil
        if wild, bytes.count >= 2 {
            for i in 0..<(bytes.count - 1) where bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "*") {
                doubleStarAt = i
                break
            }
        }
        isWild = wild
        hasDoubleStar = doubleStarAt != nil
        startsWithDoubleStar = doubleStarAt == 0
        endsWithTripleStar = doubleStarAt != nil && bytes.count >= 3 && bytes.suffix(3).allSatisfy { $0 == UInt8(ascii: "*") }
        if bytes.count > 1 && bytes.last == UInt8(ascii: "/") {
            bytes.removeLast()
            matchesDirectoriesOnly = true
        } else {
            matchesDirectoriesOnly = false
        }
        slashCount = bytes.filter { $0 == UInt8(ascii: "/") }.count
        isAnchored = bytes.first == UInt8(ascii: "/")
        body = isAnchored ? Array(bytes.dropFirst()) : bytes
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        literalPrefix = isAnchored && wild ? Array(body.prefix { !special.contains($0) }) : []
    }

    public var description: String { text }

    /// For an anchored pattern, its literal prefix (all of it when it has no wildcard): every
    /// path it matches starts with it, or is a directory that does once a `/` is added
    /// (`dir/***`). nil for an unanchored pattern.
    var anchorLiteralPrefix: [UInt8]? {
        guard isAnchored else { return nil }
        return isWild ? literalPrefix : body
    }

    /// Whether this pattern matches a path.
    /// - Parameters:
    ///   - path: root-relative, `/`-separated, no leading `/`.
    ///   - isDirectory: whether the entry is a directory.
    public func matches(_ path: String, isDirectory: Bool) -> Bool {
        matches(utf8: Array(path.utf8), isDirectory: isDirectory)
    }

    /// `matches(_:isDirectory:)` on the path's UTF-8 bytes, converted once by a caller that
    /// tries many patterns. Literal patterns and anchored patterns whose literal prefix does
    /// not match allocate nothing.
    public func matches(utf8 path: [UInt8], isDirectory: Bool) -> Bool {
        let start = path.first == UInt8(ascii: "/") ? 1 : 0
        if start == path.count { return false }
        if matchesDirectoriesOnly && !isDirectory { return false }
        let full = path[start...]
        if !isWild {
            var name = full
            if slashCount == 0 && !hasDoubleStar, let lastSlash = full.lastIndex(of: UInt8(ascii: "/")) {
                name = full[(lastSlash + 1)...]
            }
            if isAnchored { return name.elementsEqual(body) }
            guard body.count <= name.count, name.suffix(body.count).elementsEqual(body) else { return false }
            return body.count == name.count || name[name.endIndex - body.count - 1] == UInt8(ascii: "/")
        }
        if !literalPrefix.isEmpty && !full.starts(with: literalPrefix) {
            // The text may still get a trailing `/` (a directory against `dir/***`).
            let withSlash = isDirectory && endsWithTripleStar && literalPrefix.count == full.count + 1
                && literalPrefix.last == UInt8(ascii: "/") && full.elementsEqual(literalPrefix.dropLast())
            if !withSlash { return false }
        }
        var name = Array(full)
        var text: [UInt8] = []
        if slashCount == 0 && !hasDoubleStar {
            // Only the final component is matched.
            if let lastSlash = name.lastIndex(of: UInt8(ascii: "/")) {
                name = Array(name[(lastSlash + 1)...])
            }
        } else if startsWithDoubleStar {
            // Lets `**/` match at the start of the path.
            text.append(UInt8(ascii: "/"))
        }
        text += name
        if isDirectory && endsWithTripleStar {
            // Lets a trailing `/***` match the directory itself.
            text.append(UInt8(ascii: "/"))
        }

        let pattern = body
        let slashHandling: Int
        if !isAnchored && slashCount > 0 && !hasDoubleStar {
            slashHandling = slashCount + 1      // the last slashCount+1 components
        } else if !isAnchored && !startsWithDoubleStar && hasDoubleStar {
            slashHandling = -1                  // after every `/`
        } else {
            slashHandling = 0                   // from the start only
        }

        return Wildmatch.matchArray(pattern, text, slashHandling: slashHandling)
    }

    /// Escapes a literal root-relative path so that it can be used as an anchored pattern
    /// matching exactly that path (a backslash is only an escape when a wildcard is present).
    /// - Parameter path: a root-relative path, without leading `/`.
    /// - Returns: the pattern text, starting with `/`.
    public static func anchoredLiteral(_ path: String) -> String {
        guard path.contains(where: { wildcards.contains($0) }) else { return "/" + path }
        return "/" + escaped(path)
    }

    /// Escapes `*`, `?`, `[` and `\` in a literal path fragment, for a pattern that will hold a
    /// wildcard (such as `escaped(id) + ".*"`); in a pattern without one, escapes are literal.
    public static func escaped(_ fragment: String) -> String {
        var out = ""
        for ch in fragment {
            if wildcards.contains(ch) || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    private static let wildcards: Set<Character> = ["*", "?", "["]
}

/// rsync's `wildmatch()` (lib/wildmatch.c), ported byte for byte so patterns behave exactly as
/// in rsync: `*` stops at `/`, `**` crosses it, `?` is one non-`/` byte, `[...]` classes with
/// ranges, `!`/`^` negation and `[:name:]` classes (never matching `/`), `\` escapes.
enum Wildmatch {
    /// The outcome of one matching attempt, as rsync's `dowild()` returns it.
    enum Outcome {
        case match
        case noMatch
        /// The text ran out: no later start position can match either.
        case abortAll
        /// A single `*` met a `/`: only an enclosing `**` may try further.
        case abortToStarStar
    }

    /// Matches `pattern` against `text` the way rsync's `wildmatch_array()` does.
    /// - Parameters:
    ///   - pattern: the pattern bytes.
    ///   - text: the (already concatenated) text bytes.
    ///   - slashHandling: `0` matches from the start only; `n > 0` matches the last `n`
    ///     `/`-separated elements only; `-1` tries the start and then after every `/`.
    static func matchArray(_ pattern: [UInt8], _ text: [UInt8], slashHandling: Int) -> Bool {
        var start = 0
        if slashHandling > 0 {
            guard let s = trailingElementsStart(text, count: slashHandling) else { return false }
            start = s
        }
        var outcome = doWild(pattern, 0, text, start)
        if outcome != .match && slashHandling < 0 && outcome != .abortAll {
            var t = start
            while t < text.count {
                let byte = text[t]
                t += 1
                if byte == UInt8(ascii: "/") {
                    outcome = doWild(pattern, 0, text, t)
                    if outcome != .noMatch && outcome != .abortToStarStar { break }
                }
            }
        }
        return outcome == .match
    }

    /// rsync's `trailing_N_elements()`: where the last `count` `/`-separated elements begin,
    /// or `nil` when the text has fewer elements.
    private static func trailingElementsStart(_ text: [UInt8], count: Int) -> Int? {
        var remaining = count
        var i = text.count - 1
        while i >= 0 {
            if text[i] == UInt8(ascii: "/") {
                remaining -= 1
                if remaining == 0 { return i + 1 }
            }
            i -= 1
        }
        return remaining == 1 ? 0 : nil
    }

    private static let slash = UInt8(ascii: "/")
    private static let star = UInt8(ascii: "*")

    /// rsync's `dowild()`.
    private static func doWild(_ p: [UInt8], _ pStart: Int, _ text: [UInt8], _ tStart: Int) -> Outcome {
        var pi = pStart
        var ti = tStart
        while pi < p.count {
            var pCh = p[pi]
            if ti >= text.count && pCh != star { return .abortAll }
            let tCh: UInt8 = ti < text.count ? text[ti] : 0
            switch pCh {
            case UInt8(ascii: "\\"):
                // Literal match with the following character (a trailing `\` matches nothing).
                pi += 1
                pCh = pi < p.count ? p[pi] : 0
                if tCh != pCh || pCh == 0 { return .noMatch }
            case UInt8(ascii: "?"):
                if tCh == slash { return .noMatch }
            case star:
                var special = false
                pi += 1
                if pi < p.count && p[pi] == star {
                    special = true
                    while pi < p.count && p[pi] == star { pi += 1 }
                }
                if pi == p.count {
                    // A trailing `**` matches everything, a trailing `*` only if no `/` is left.
                    if !special && text[ti...].contains(slash) { return .noMatch }
                    return .match
                }
                var t = ti
                while t < text.count {
                    let outcome = doWild(p, pi, text, t)
                    if outcome != .noMatch {
                        if !special || outcome != .abortToStarStar { return outcome }
                    } else if !special && text[t] == slash {
                        return .abortToStarStar
                    }
                    t += 1
                }
                return .abortAll
            case UInt8(ascii: "["):
                guard let (matched, end) = matchClass(p, pi, tCh) else { return .abortAll }
                if !matched || tCh == slash { return .noMatch }
                pi = end
            default:
                if tCh != pCh { return .noMatch }
            }
            pi += 1
            ti += 1
        }
        return ti == text.count ? .match : .noMatch
    }

    /// Evaluates the bracket expression opening at `p[open]` against `tCh`.
    /// - Returns: whether it accepts `tCh` (negation applied) and the index of its closing `]`,
    ///   or `nil` when the class is malformed (rsync then aborts the whole match).
    private static func matchClass(_ p: [UInt8], _ open: Int, _ tCh: UInt8) -> (Bool, Int)? {
        func at(_ i: Int) -> UInt8 { i < p.count ? p[i] : 0 }
        var pi = open + 1
        var pCh = at(pi)
        let negated = pCh == UInt8(ascii: "!") || pCh == UInt8(ascii: "^")
        if negated {
            pi += 1
            pCh = at(pi)
        }
        var prevCh: UInt8 = 0
        var matched = false
        repeat {
            if pCh == 0 { return nil }
            if pCh == UInt8(ascii: "\\") {
                pi += 1
                pCh = at(pi)
                if pCh == 0 { return nil }
                if tCh == pCh { matched = true }
            } else if pCh == UInt8(ascii: "-") && prevCh != 0 && at(pi + 1) != 0 && at(pi + 1) != UInt8(ascii: "]") {
                pi += 1
                pCh = at(pi)
                if pCh == UInt8(ascii: "\\") {
                    pi += 1
                    pCh = at(pi)
                    if pCh == 0 { return nil }
                }
                if tCh <= pCh && tCh >= prevCh { matched = true }
                pCh = 0  // So that the next `-` is not read as a range.
            } else if pCh == UInt8(ascii: "[") && at(pi + 1) == UInt8(ascii: ":") {
                let nameStart = pi + 2
                var q = nameStart
                while at(q) != 0 && at(q) != UInt8(ascii: "]") { q += 1 }
                if at(q) == 0 { return nil }
                if q - nameStart - 1 < 0 || at(q - 1) != UInt8(ascii: ":") {
                    // No `:]`: a plain `[` inside the set.
                    pCh = UInt8(ascii: "[")
                    if tCh == pCh { matched = true }
                } else {
                    let name = String(decoding: p[nameStart..<(q - 1)], as: UTF8.self)
                    guard let test = posixClass(name) else { return nil }
                    if test(tCh) { matched = true }
                    pi = q
                    pCh = 0
                }
            } else if tCh == pCh {
                matched = true
            }
            prevCh = pCh
            pi += 1
            pCh = at(pi)
        } while pCh != UInt8(ascii: "]")
        return (matched != negated, pi)
    }

    private static func posixClass(_ name: String) -> ((UInt8) -> Bool)? {
        func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
        func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
        func isGraph(_ c: UInt8) -> Bool { c > 32 && c < 127 }
        switch name {
        case "alnum": return { isAlpha($0) || isDigit($0) }
        case "alpha": return isAlpha
        case "blank": return { $0 == 32 || $0 == 9 }
        case "cntrl": return { $0 < 32 || $0 == 127 }
        case "digit": return isDigit
        case "graph": return isGraph
        case "lower": return isLower
        case "print": return { $0 >= 32 && $0 < 127 }
        case "punct": return { isGraph($0) && !isAlpha($0) && !isDigit($0) }
        case "space": return { $0 == 32 || ($0 >= 9 && $0 <= 13) }
        case "upper": return isUpper
        case "xdigit": return { isDigit($0) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }
        default: return nil
        }
    }
}

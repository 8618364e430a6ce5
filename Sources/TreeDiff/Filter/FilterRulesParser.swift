/// Reads rsync-style filter rules: `- PATTERN`, `+ PATTERN`, `exclude PATTERN`,
/// `include PATTERN`, blank lines, and comments starting with `#` or `;`.
///
/// As in rsync, the rule type is followed by exactly one space (or `_`), and the pattern is
/// the rest of the line, trailing spaces included. Modifiers (`-!`, `-/`...), merge rules and
/// every other rule type are refused rather than silently misread.
public enum FilterRulesParser {
    /// Parses the text of a rules file.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name used in rule sources and errors.
    /// - Returns: the rules in file order.
    /// - Throws: `FilterError` (`.unknownRuleType`, `.missingPattern`) naming the file and line.
    public static func parse(_ text: String, file: String) throws(FilterError) -> [FilterRule] {
        var rules: [FilterRule] = []
        var lineNumber = 0
        // `\r\n` is one Character in Swift; a lone `\r` also ends a line, as in rsync.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for line in lines {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.first == "#" || line.first == ";" { continue }
            let source = RuleSource.file(path: file, line: lineNumber)
            if let rule = try parseRule(line, source: source, file: file, lineNumber: lineNumber) {
                rules.append(rule)
            }
        }
        return rules
    }

    private static func parseRule(_ line: Substring, source: RuleSource, file: String, lineNumber: Int) throws(FilterError) -> FilterRule? {
        let forms: [(String, FilterAction)] = [("exclude", .exclude), ("include", .include), ("-", .exclude), ("+", .include)]
        for (keyword, action) in forms where line.hasPrefix(keyword) {
            let rest = line.dropFirst(keyword.count)
            if rest.isEmpty {
                throw FilterError(code: .missingPattern, file: file, line: lineNumber, text: String(line))
            }
            guard rest.first == " " || rest.first == "_" else { break }
            let pattern = rest.dropFirst()
            if pattern.isEmpty {
                throw FilterError(code: .missingPattern, file: file, line: lineNumber, text: String(line))
            }
            return FilterRule(action, String(pattern), source: source)
        }
        throw FilterError(code: .unknownRuleType, file: file, line: lineNumber, text: String(line))
    }
}

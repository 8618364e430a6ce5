import Foundation

/// An ordered list of rsync-style include/exclude rules: the first matching rule decides,
/// and a path no rule matches is replicated.
public struct FilterList: PathFilter, Sendable, Hashable {
    /// The rules, in the order they are tried.
    public let rules: [FilterRule]

    /// The largest rules file `load(contentsOf:)` accepts.
    public static let maximumFileSize = 1 << 20

    /// Creates a list from rules already built or parsed.
    public init(_ rules: [FilterRule] = []) {
        self.rules = rules
    }

    /// Reads a rules file (see `FilterRulesParser` for the accepted syntax).
    /// - Parameters:
    ///   - path: the rules file; symlinks are followed (the file is the user's, outside the tree).
    ///   - displayName: the name used in rule sources and errors; the path when `nil`.
    /// - Throws: `FilterError` naming the file (and line, for syntax errors).
    public static func load(contentsOf path: String, displayName: String? = nil) throws(FilterError) -> FilterList {
        let name = displayName ?? path
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw FilterError(code: .unreadable, file: name, line: nil, text: "not a regular file")
            }
            if let size = attributes[.size] as? Int, size > maximumFileSize {
                throw FilterError(code: .tooLarge, file: name, line: nil, text: "\(size) bytes")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as FilterError {
            throw error
        } catch {
            throw FilterError(code: .unreadable, file: name, line: nil, text: (error as NSError).localizedDescription)
        }
        guard data.count <= maximumFileSize else {
            throw FilterError(code: .tooLarge, file: name, line: nil, text: "\(data.count) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FilterError(code: .notText, file: name, line: nil, text: "")
        }
        return FilterList(try FilterRulesParser.parse(text, file: name))
    }

    /// The first rule matching a path, or `nil` when none does.
    /// - Parameters:
    ///   - path: root-relative, `/`-separated, no leading `/`.
    ///   - isDirectory: whether the entry is a directory.
    public func firstMatch(_ path: String, isDirectory: Bool) -> FilterRule? {
        firstMatch(utf8: Array(path.utf8), isDirectory: isDirectory)
    }

    /// The first rule matching the path given as UTF-8 bytes.
    public func firstMatch(utf8 path: [UInt8], isDirectory: Bool) -> FilterRule? {
        rules.first { $0.matches(utf8: path, isDirectory: isDirectory) }
    }

    public func decide(_ path: String, isDirectory: Bool) -> FilterDecision {
        guard let rule = firstMatch(path, isDirectory: isDirectory) else { return .defaultInclude }
        return FilterDecision(included: rule.action == .include, rule: rule.description)
    }

    /// Appends another list's rules after this one's.
    public func appending(_ other: FilterList) -> FilterList {
        FilterList(rules + other.rules)
    }
}

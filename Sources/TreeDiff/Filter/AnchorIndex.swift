/// Finds the first of many rules that matches a path without trying them all.
///
/// An anchored rule can only match a path that starts with its literal prefix (the pattern up
/// to its first wildcard), so rules are filed by that prefix; a path looks up its own prefixes
/// of the lengths some rule has (and, for a directory, its prefixes with a `/` added, which
/// `dir/***` matches). Unanchored rules are always tried. The built-in rules hold two per
/// guest on the master: with a thousand guests, trying each rule on each of 100,000 paths was
/// most of a scan.
struct AnchorIndex: Sendable, Hashable {
    private let patterns: [FilterPattern]
    private var buckets: [[UInt8]: [Int]] = [:]
    private var lengths: [Int] = []
    private var always: [Int] = []

    /// - Parameter patterns: the rules' patterns, in the order they are tried.
    init(_ patterns: [FilterPattern]) {
        self.patterns = patterns
        var lengths = Set<Int>()
        for (index, pattern) in patterns.enumerated() {
            if let key = pattern.anchorLiteralPrefix {
                buckets[key, default: []].append(index)
                lengths.insert(key.count)
            } else {
                always.append(index)
            }
        }
        self.lengths = lengths.sorted()
    }

    /// The index of the first pattern (in the order given) that matches the path, or nil.
    func firstMatch(_ path: [UInt8], isDirectory: Bool) -> Int? {
        for i in candidates(path, isDirectory: isDirectory) where patterns[i].matches(utf8: path, isDirectory: isDirectory) {
            return i
        }
        return nil
    }

    /// The indices of the rules that may match `path`, in increasing order; every rule not
    /// listed cannot match.
    func candidates(_ path: [UInt8], isDirectory: Bool) -> [Int] {
        let start = path.first == UInt8(ascii: "/") ? 1 : 0
        var probe = Array(path[start...])
        if isDirectory { probe.append(UInt8(ascii: "/")) }
        var out = always
        var sources = always.isEmpty ? 0 : 1
        for length in lengths {
            guard length <= probe.count else { break }
            if let bucket = buckets[Array(probe[..<length])] {
                out += bucket
                sources += 1
            }
        }
        if sources > 1 { out.sort() }
        return out
    }
}

/// Finds which of many rules may match a path without trying them all.
///
/// An anchored rule can only match a path that starts with its literal prefix (the pattern up
/// to its first wildcard), so it is filed under the directory part of that prefix; a path
/// looks up only its own ancestors (and, for a directory, itself with a `/`, which `dir/***`
/// matches). Unanchored rules are always candidates. The built-in rules hold two per guest
/// on the master: with a thousand guests, trying each rule on each of 100,000 paths was most
/// of a scan.
struct AnchorIndex: Sendable, Hashable {
    private var buckets: [[UInt8]: [Int]] = [:]
    private var always: [Int] = []

    /// - Parameter patterns: the rules' patterns, in the order they are tried.
    init(_ patterns: [FilterPattern]) {
        for (index, pattern) in patterns.enumerated() {
            if let key = pattern.anchorDirectoryKey {
                buckets[key, default: []].append(index)
            } else {
                always.append(index)
            }
        }
    }

    /// The indices of the rules that may match `path`, in increasing order (the order they
    /// are tried); every rule not listed cannot match.
    func candidates(_ path: [UInt8], isDirectory: Bool) -> [Int] {
        var out = always
        var fromBuckets = false
        func add(_ key: [UInt8]) {
            if let bucket = buckets[key] { out += bucket; fromBuckets = true }
        }
        let start = path.first == UInt8(ascii: "/") ? 1 : 0
        add([])
        var i = start
        while i < path.count {
            if path[i] == UInt8(ascii: "/") { add(Array(path[start...i])) }
            i += 1
        }
        if isDirectory && start < path.count { add(Array(path[start...]) + [UInt8(ascii: "/")]) }
        if fromBuckets && out.count > 1 { out.sort() }
        return out
    }
}

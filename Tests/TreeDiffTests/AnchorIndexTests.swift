import Testing
@testable import TreeDiff

/// The built-in filter skips rules through `AnchorIndex`; it must decide every path exactly
/// as trying each rule in order does.
@Suite struct AnchorIndexTests {
    static let pieces = ["a", "b", "ab", "x", "*", "**", "***", "?", "[ab]", "[!a]", "/", ".lock", ".serv", "12", "\\*", "a/b", "c/"]
    static let names = ["a", "b", "ab", "a.lock", "b.serv", "12.serv", "x", "[a]", "12", "c"]

    @Test(arguments: 0..<40)
    func indexedDecisionsEqualTryingEveryRule(_ seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed) &* 7919 &+ 1)
        var patterns: [String] = []
        for _ in 0..<Int(rng.next() % 30 + 1) {
            var text = rng.next() % 3 == 0 ? "" : "/"
            for _ in 0..<Int(rng.next() % 4 + 1) { text += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }
            if text.isEmpty || text == "/" { text += "a" }
            patterns.append(text)
        }
        // Shapes the index treats specially: `dir/***` matching the directory itself, literal
        // anchored paths, directory-only patterns.
        for _ in 0..<Int(rng.next() % 6) {
            let a = Self.names[Int(rng.next() % UInt64(Self.names.count))]
            let b = Self.names[Int(rng.next() % UInt64(Self.names.count))]
            patterns.insert(["/\(a)/***", "/\(a)/\(b)/***", "/\(a)/\(b)", "/\(a)/", "/\(a)*/\(b)"][Int(rng.next() % 5)],
                            at: Int(rng.next() % UInt64(patterns.count + 1)))
        }
        let exclusions = patterns.map { CloudminExclusion(.lockFile, pattern: $0) }
        let filter = CloudminFilter(builtIn: exclusions)
        for _ in 0..<300 {
            var parts: [String] = []
            for _ in 0..<Int(rng.next() % 4 + 1) { parts.append(Self.names[Int(rng.next() % UInt64(Self.names.count))]) }
            let path = parts.joined(separator: "/")
            for isDirectory in [false, true] {
                let linear = exclusions.first { $0.rule.matches(path, isDirectory: isDirectory) }
                let decision = filter.decide(path, isDirectory: isDirectory)
                #expect(decision.included == (linear == nil), "\(path) dir=\(isDirectory) rules \(patterns)")
                #expect(decision.rule == linear.map { FilterDecision(included: false, rule: $0.rule.description).rule } ?? decision.rule,
                        "\(path) dir=\(isDirectory) rules \(patterns)")
            }
        }
    }
}

import Foundation
import Testing
import TreeDiff

/// A small deterministic generator (SplitMix64), so every run tries the same rule sets.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random patterns built from wildcard and name pieces, compared with rsync on one tree.
@Suite struct FilterRandomRules {
    static let names = ["a", "b", "ab", "a.lock", "b.serv", "12.serv", "x", "[a]"]
    static let pieces = ["a", "b", "x", "*", "**", "***", "?", "[ab]", "[!a]", "/", ".lock", ".serv", "1", "\\*"]

    @Test(arguments: 0..<16)
    func randomRuleSetsMatchRsync(_ seed: Int) throws {
        var rng = SplitMix(state: UInt64(seed) &* 7919 &+ 1)
        let scratch = try FilterScratch()
        // A tree three levels deep over a few names, files and directories alike.
        for first in ["a", "b", "x"] {
            for second in Self.names {
                try scratch.file("src/\(first)/\(second)")
                for third in Self.names.prefix(4) { try scratch.file("src/\(first)/d\(second)/\(third)") }
            }
            try scratch.file("src/\(first).lock")
        }
        var lines: [String] = []
        for _ in 0..<Int.random(in: 3...7, using: &rng) {
            var pattern = ""
            for _ in 0..<Int.random(in: 1...4, using: &rng) { pattern += Self.pieces.randomElement(using: &rng)! }
            if pattern.allSatisfy({ $0 == "/" }) { pattern = "x" + pattern }
            lines.append((Bool.random(using: &rng) ? "- " : "+ ") + pattern)
        }
        let rules = lines.joined(separator: "\n") + "\n"
        try scratch.file("rules", rules)
        let root = scratch.path + "/src"
        let ours = try scanIncluded(root, filter: try FilterList.load(contentsOf: scratch.path + "/rules"))
        let theirs = try rsyncIncluded(root, filterArguments: ["--filter=merge " + scratch.path + "/rules"])
        #expect(ours == theirs, "rules:\n\(rules)only ours: \(ours.subtracting(theirs).sorted()), only rsync's: \(theirs.subtracting(ours).sorted())")
    }
}

import Foundation
import Testing
@testable import TreeDiff

@Suite struct ManifestChangesTests {
    /// Random edits of the sample manifest: the changes rebuild the target exactly.
    @Test func changesRebuildTheTarget() throws {
        let base = try sampleManifest()
        var rng = SeededRandom(seed: 99)
        for round in 0..<50 {
            var entries = base.entries
            if rng.next() % 2 == 0, !entries.isEmpty { entries.remove(at: Int(rng.next() % UInt64(entries.count))) }
            if rng.next() % 2 == 0, let i = entries.indices.randomElement(using: &rng) { entries[i].mtimeNs += 1 }
            if rng.next() % 2 == 0, let i = entries.indices.randomElement(using: &rng) { entries[i].ctimeNs += 7 }  // local only
            if rng.next() % 2 == 0 {
                entries.append(ManifestEntry(path: "etc/webmin/server-manager/n\(round)", kind: .file, size: 0, mode: 0o600,
                                             mtimeNs: 5, digest: ContentHasher().finalize()))
            }
            let target = try Manifest(entries: entries)
            let changes = ManifestChanges.between(base, target)
            let decoded = try ManifestChanges(decoding: changes.encoded())
            #expect(decoded == changes)
            let rebuilt = try decoded.applied(to: base)
            #expect(rebuilt.treeDigest == target.treeDigest)
            #expect(rebuilt == target.replicated)
            // A change to a local-only field is no change.
            #expect(changes.upserted.count + changes.removed.count <= 3)
        }
        #expect(ManifestChanges.between(base, base) == ManifestChanges(removed: [], upserted: []))
    }

    @Test func badChangesAreRefused() throws {
        let base = try sampleManifest()
        let removeMissing = ManifestChanges(removed: ["etc/nope"], upserted: [])
        #expect(throws: ManifestError.self) { _ = try removeMissing.applied(to: base) }
        for path in ["../etc", "/etc/x", "a\u{0}b", ""] {
            let bytes = ManifestChanges(removed: [path], upserted: []).encoded()
            #expect(throws: ManifestError.self) { _ = try ManifestChanges(decoding: bytes) }
        }
        let good = ManifestChanges(removed: ["etc/webmin/server-manager-x"], upserted: []).encoded()
        for n in 0..<good.count {
            #expect(throws: ManifestError.self) { _ = try ManifestChanges(decoding: Array(good[..<n])) }
        }
    }
}

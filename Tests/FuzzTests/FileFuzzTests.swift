import Foundation
import Testing
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// Files the tool reads from disk: the configuration file, rsync-style rules files, and the
/// replica's staged objects with their `.part.progress` records.
@Suite struct FileFuzzTests {
    @Test func configFiles() throws {
        try fuzz("config", seeds: FuzzSeeds.configs) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let file = try ConfigFile(text: text, path: "/etc/cloudmin-mirror/config", hostPath: "/nonexistent")
                for path in [file.config.stateDir, file.config.identity] + file.config.trees {
                    #expect(path.hasPrefix("/") && !path.split(separator: "/").contains(".."))
                }
                for replica in file.config.replicas {
                    #expect(ConfigFile.isValidReplicaName(replica.name) && !replica.host.isEmpty)
                    #expect((1...65535).contains(replica.port))
                }
                return true
            } catch let error as ConfigError {
                #expect(error.line != nil || error.code == .syntax, "a config error names its line")
                return false
            }
        }
    }

    @Test func filterRules() {
        fuzz("filter-rules", seeds: FuzzSeeds.filterRules) { bytes in
            do {
                _ = try FilterRulesParser.parse(String(decoding: bytes, as: UTF8.self), file: "rules")
                return true
            } catch {
                return false
            }
        }
    }

    /// A partial object whose progress record is hostile (negative, huge, not a number, past
    /// the object's end): the store resumes only where the data really is, or refuses.
    @Test func stagedObjectsAndProgressRecords() throws {
        let scratch = try ScratchDirectory(prefix: "cm-fuzz-objects")
        let store = try ObjectStore(directory: scratch.file("objects"))
        let content = Array(FuzzSeeds.deltaBase.prefix(20_000))
        var hasher = ContentHasher()
        content.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finalize()
        let half = 8192
        let seeds = [Array("\(half)\n".utf8), Array("0\n".utf8), Array("4096 and a note\n".utf8)]
        try fuzz("object-progress", seeds: seeds, iterations: max(50, FuzzBudget.iterations / 10)) { record in
            try store.removeAll()
            // What an interrupted run left: the first `half` data bytes and a progress record.
            try Data(content.prefix(half)).write(to: URL(fileURLWithPath: store.partPath(digest)))
            try Data(record).write(to: URL(fileURLWithPath: store.partPath(digest) + ".progress"))
            let partial = try store.objects(inventory: ())
            guard let claimed = partial[digest] else { return false }
            // The master asks to resume where the replica said (the protocol carries 0..<2^62).
            guard claimed >= 0, claimed < 1 << 62 else { return false }
            do {
                let writer = try store.begin(digest, size: Int64(content.count), extents: [], resumeAt: claimed)
                if claimed < content.count {
                    try content[Int(claimed)...].withUnsafeBytes { try writer.write($0) }
                }
                try writer.finish()
            } catch let e as ReplicaError {
                #expect(e.code == .badPlan || e.code == .digestMismatch)
                #expect(!store.has(digest), "a refused object is never complete")
                return false
            }
            #expect(store.has(digest))
            return true
        }
    }
}

extension ObjectStore {
    /// The partial objects `inventory()` reports.
    func objects(inventory: Void) throws -> [ContentDigest: Int64] { try self.inventory().partial }
}

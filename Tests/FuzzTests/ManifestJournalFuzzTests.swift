import Testing
import TreeDiff
@testable import MirrorEngine

/// The files a replica and a master read back from disk or from the other side: manifests and
/// the commit journal. Mutated inputs either decode into something safe to act on (every path
/// root-relative, no `..`, no NUL, sorted, unique) or are refused with the decoder's own error.
@Suite struct ManifestJournalFuzzTests {
    /// Decodes a manifest; on success checks the properties commit and planning rely on.
    static func decodeManifest(_ bytes: [UInt8]) -> Bool {
        let manifest: Manifest
        do { manifest = try Manifest(decoding: bytes) } catch { return false }  // typed: ManifestError
        var previous: String?
        for entry in manifest.entries {
            #expect(RelativePath.isValid(entry.path), "decoded a hostile path \(entry.path.debugDescription)")
            if let previous { #expect(Array(previous.utf8).lexicographicallyPrecedes(Array(entry.path.utf8)), "unsorted or duplicate \(entry.path)") }
            previous = entry.path
            #expect(entry.size >= 0)
            var end: Int64 = 0
            for extent in entry.extents {
                #expect(extent.offset >= end && extent.length >= 0 && extent.end <= entry.size, "extent past its file in \(entry.path)")
                end = extent.end
            }
        }
        #expect((try? Manifest(decoding: manifest.encoded())) == manifest, "re-encoding changes the manifest")
        return true
    }

    @Test func manifestsAsStored() {
        fuzz("manifest", seeds: FuzzSeeds.manifests, Self.decodeManifest)
    }

    /// The checksum is made to fit after each mutation, so the entry parser itself is reached.
    @Test func manifestsResealed() {
        fuzz("manifest-resealed", seeds: FuzzSeeds.manifests) { Self.decodeManifest(Reseal.manifest($0)) }
    }

    static func decodeJournal(_ bytes: [UInt8]) throws -> Bool {
        let journal: Journal
        do { journal = try Journal(decoding: bytes, file: "journal") } catch let e as ReplicaError {
            #expect(e.code == .corruptState)
            return false
        }
        for step in journal.steps {
            switch step {
            case .remove(let path, _), .makeDirectory(let path, _):
                #expect(RelativePath.isValid(path))
            case .place(let path, let temp, let dir):
                #expect(RelativePath.isValid(path))
                #expect(temp.hasPrefix(".cm-mirror-") && !temp.contains("/") && !temp.contains("\0"))
                switch dir {
                case .inTree(let d), .aboveTree(let d): #expect(RelativePath.isValid(d))
                }
            case .metadata(let entry):
                #expect(RelativePath.isValid(entry.path))
                #expect(entry.mode <= 0o7777)
            }
        }
        #expect((try? Journal(decoding: journal.encoded(), file: "journal")) == journal, "re-encoding changes the journal")
        return true
    }

    @Test func journalsAsStored() throws {
        try fuzz("journal", seeds: FuzzSeeds.journals, Self.decodeJournal)
    }

    @Test func journalsResealed() throws {
        try fuzz("journal-resealed", seeds: FuzzSeeds.journals) { try Self.decodeJournal(Reseal.journal($0)) }
    }

    /// `prepare.list`, read by recovery to find the temps a failed commit left.
    @Test func prepareListLines() {
        let seeds = [Array("T\tetc/webmin/server-manager\t.cm-mirror-3-abc\t1650000000000000000".utf8),
                     Array("A\tvar/cloudmin/images\t.cm-mirror-3-def".utf8)]
        fuzz("prepare-list", seeds: seeds) { bytes in
            let line = Substring(String(decoding: bytes, as: UTF8.self))
            guard let (dir, temp, _) = ReplicaStore.decodePrepareLine(line) else { return false }
            switch dir {
            case .inTree(let d), .aboveTree(let d): #expect(RelativePath.isValid(d))
            }
            #expect(temp.hasPrefix(".cm-mirror-") && !temp.contains("/"))
            return true
        }
    }
}

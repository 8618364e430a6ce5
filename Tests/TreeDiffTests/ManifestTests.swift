#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import SystemPackage
import Testing
@testable import TreeDiff

/// A manifest with every kind of entry and awkward values.
func sampleManifest() throws -> Manifest {
    func d(_ text: String) -> ContentDigest {
        var hasher = ContentHasher()
        Array(text.utf8).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }
    return try Manifest(entries: [
        ManifestEntry(path: "etc/webmin/server-manager/12.serv", kind: .file, size: 5, mode: 0o600, uid: 0, gid: 0,
                      mtimeNs: 1_700_000_000_123_456_789, digest: d("id=12"), ctimeNs: 1_700_000_001_000_000_000, inode: 77, device: 2049),
        ManifestEntry(path: "etc/webmin/server-manager", kind: .directory, mode: 0o1755, uid: 0, gid: 0, mtimeNs: 1_600_000_000_000_000_001),
        ManifestEntry(path: "etc/webmin/server-manager/link", kind: .symlink, size: 12, mode: 0o777, uid: 33, gid: 33,
                      mtimeNs: -5_000_000_001, symlinkTarget: "../../passwd"),
        ManifestEntry(path: "var/cloudmin/images/vm 1 é.img", kind: .file, size: 64 << 30, mode: 0o4640, uid: 4_000_000_000, gid: 65534,
                      mtimeNs: 0, extents: [DataExtent(offset: 4096, length: 8192), DataExtent(offset: 40 << 30, length: 1 << 20)],
                      digest: d("image")),
        ManifestEntry(path: "etc/webmin/server-manager-x", kind: .directory, mode: 0o755, mtimeNs: 1),
    ])
}

@Suite struct ManifestTests {
    @Test func ordersByUTF8BytesWithParentsFirst() throws {
        let manifest = try sampleManifest()
        #expect(manifest.entries.map(\.path) == [
            "etc/webmin/server-manager",
            "etc/webmin/server-manager-x",
            "etc/webmin/server-manager/12.serv",
            "etc/webmin/server-manager/link",
            "var/cloudmin/images/vm 1 é.img",
        ])
        #expect(manifest["etc/webmin/server-manager/link"]?.symlinkTarget == "../../passwd")
        #expect(manifest["etc/webmin/missing"] == nil)
        #expect(manifest.entries(inside: "etc/webmin/server-manager").map(\.path) == [
            "etc/webmin/server-manager/12.serv", "etc/webmin/server-manager/link",
        ])
        let image = try #require(manifest["var/cloudmin/images/vm 1 é.img"]?.digest)
        #expect(manifest.pathsByDigest()[image] == ["var/cloudmin/images/vm 1 é.img"])
    }

    @Test func binaryRoundTrip() throws {
        let manifest = try sampleManifest()
        let decoded = try Manifest(decoding: manifest.encoded())
        #expect(decoded == manifest)
        #expect(decoded.treeDigest == manifest.treeDigest)
        #expect(try Manifest(decoding: Manifest.empty.encoded()) == Manifest.empty)
    }

    @Test func fileRoundTripIsAtomicAndJSONWorks() throws {
        let tree = try TestTree()
        let file = tree.absolute("master.manifest")
        let manifest = try sampleManifest()
        try manifest.save(to: file)
        try Manifest.empty.save(to: file)  // replaces, leaves no temp file behind
        try manifest.save(to: file)
        #expect(try Manifest.load(from: file) == manifest)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.root) == ["master.manifest"])

        let json = try JSONEncoder().encode(manifest)
        #expect(try JSONDecoder().decode(Manifest.self, from: json) == manifest)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["treeDigest"] as? String == manifest.treeDigest.description)
    }

    @Test func treeDigestCoversReplicatedFieldsOnly() throws {
        let manifest = try sampleManifest()
        #expect(manifest.replicated.treeDigest == manifest.treeDigest)
        var entries = manifest.entries
        entries[4].extents = []
        #expect(try Manifest(entries: entries).treeDigest == manifest.treeDigest)
        for change in 0..<4 {
            var changed = manifest.entries
            switch change {
            case 0: changed[2].mode = 0o644
            case 1: changed[2].mtimeNs += 1
            case 2: changed[3].symlinkTarget = "../../passwe"
            default: changed[0].uid = 1
            }
            #expect(try Manifest(entries: changed).treeDigest != manifest.treeDigest)
        }
    }

    @Test func everyTruncationIsReportedAsTruncated() throws {
        let bytes = try sampleManifest().encoded()
        for length in 0..<bytes.count {
            #expect(throws: ManifestError.self) { try Manifest(decoding: Array(bytes[..<length])) }
            do { _ = try Manifest(decoding: Array(bytes[..<length])) } catch {
                #expect(error.code == .truncated, "cut at \(length)")
            }
        }
        do { _ = try Manifest(decoding: bytes + [0]) } catch { #expect(error.code == .trailingData) }
    }

    @Test func everyCorruptByteIsDetected() throws {
        let bytes = try sampleManifest().encoded()
        for position in 0..<bytes.count {
            var corrupt = bytes
            corrupt[position] ^= 0x20
            do {
                _ = try Manifest(decoding: corrupt)
                Issue.record("corruption at byte \(position) not detected")
            } catch {
                switch position {
                case 0..<4: #expect(error.code == .badMagic)
                case 4..<6: #expect(error.code == .unsupportedVersion(UInt16(corrupt[4]) | UInt16(corrupt[5]) << 8))
                case 6..<8: #expect(error.code == .invalidEntry)  // unknown flags
                case 8..<16: #expect(error.code == .checksumMismatch || error.code == .invalidEntry)
                case 16..<24: #expect(error.code == .truncated || error.code == .trailingData)
                default: #expect(error.code == .checksumMismatch)
                }
            }
        }
    }

    @Test func validChecksumButBadEntriesAreRejected() throws {
        let good = try sampleManifest().entries
        func decodeError(_ entries: [ManifestEntry]) -> ManifestError.Code? {
            do { _ = try Manifest(decoding: Manifest(sortedUnchecked: entries).encoded()); return nil } catch { return error.code }
        }
        var dotDot = good; dotDot[1].path = "etc/../x"
        #expect(decodeError(dotDot) == .invalidPath)
        var absolute = good; absolute[0].path = "/etc"
        #expect(decodeError(absolute) == .invalidPath)
        #expect(decodeError([good[1], good[0]]) == .unsorted)
        #expect(decodeError([good[0], good[0]]) == .duplicatePath)
        var badExtent = good; badExtent[4].extents = [DataExtent(offset: 64 << 30, length: 1)]
        #expect(decodeError(badExtent) == .invalidEntry)

        #expect(throws: ManifestError.self) { try Manifest(entries: [good[0], good[0]]) }
        #expect(throws: ManifestError.self) { try Manifest(entries: dotDot) }
    }

    @Test func loadingNamesTheFile() throws {
        let tree = try TestTree()
        let file = tree.absolute("replica.manifest")
        do { _ = try Manifest.load(from: file); Issue.record("loaded a missing file") } catch {
            #expect(error.code == .io(.noSuchFileOrDirectory))
            #expect(error.file == file)
        }
        let bytes = try sampleManifest().encoded()
        try tree.write("replica.manifest", Array(bytes.dropLast(10)))
        do { _ = try Manifest.load(from: file); Issue.record("loaded a truncated file") } catch {
            #expect(error.code == .truncated)
            #expect(error.file == file)
        }
        try tree.write("replica.manifest", Array("key=value\n".utf8))
        do { _ = try Manifest.load(from: file); Issue.record("loaded a text file") } catch {
            #expect(error.code == .badMagic)
        }
    }
}

import Crypto
import Foundation
import SystemPackage
import TestSupport
import TreeDiff
@testable import MirrorEngine

/// Valid encodings every fuzzer starts from: made by the real encoders from real data.
enum FuzzSeeds {
    static let fixtureTrees = ["etc/webmin/server-manager", "var/webmin/modules/server-manager/collected", "var/cloudmin/images"]

    /// The manifest of the small Cloudmin fixture as scanned (quick-check fields, extents,
    /// symlinks); the materialized tree is removed again.
    static let manifest: Manifest = {
        let scratch = try! ScratchDirectory(prefix: "cm-fuzz")
        defer { try? FileManager.default.removeItem(atPath: scratch.path) }
        let root = scratch.file("master")
        try! Fixtures.materializeSmall(into: URL(fileURLWithPath: root))
        return try! Scanner(root: root, trees: fixtureTrees).scan().manifest
    }()

    /// Manifest encodings: the whole fixture, a small slice of it, and an empty manifest.
    static let manifests: [[UInt8]] = {
        let small = try! Manifest(entries: Array(manifest.entries.prefix(12)))
        return [manifest.encoded(), small.encoded(), try! Manifest(entries: []).encoded()]
    }()

    /// Some digests of real fixture files.
    static var digests: [ContentDigest] { manifest.entries.compactMap(\.digest).prefix(4).map { $0 } }

    /// A journal of every step kind, built from fixture paths.
    static let journals: [[UInt8]] = {
        let entries = Array(manifest.entries.prefix(40))
        var steps: [Journal.Step] = []
        for (i, e) in entries.enumerated() {
            switch i % 5 {
            case 0: steps.append(.remove(path: e.path, onlyIf: i % 2 == 0 ? nil : e.kind))
            case 1: steps.append(.makeDirectory(path: e.path, mode: 0o755))
            case 2: steps.append(.place(path: e.path, temp: ".cm-mirror-7-\(i)", directory: .inTree(RelativePath.parent(of: e.path) ?? e.path)))
            case 3: steps.append(.place(path: e.path, temp: ".cm-mirror-7-\(i)", directory: .aboveTree(e.path)))
            default: steps.append(.metadata(e))
            }
        }
        return [Journal(generation: 7, lineage: "lineage-fuzz", steps: steps).encoded(),
                Journal(generation: 1, lineage: "", steps: []).encoded()]
    }()

    /// A pseudo-random base file and a new version of it with edits, inserts and a cut.
    static let deltaBase: [UInt8] = {
        var rng = SplitMix64(seed: 42)
        return (0..<(96 << 10)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }()

    static let deltaNew: [UInt8] = {
        var new = deltaBase
        new.replaceSubrange(5000..<5100, with: [UInt8](repeating: 0xAB, count: 300))
        new.insert(contentsOf: Array("inserted text".utf8), at: 40_000)
        new.removeSubrange(70_000..<72_000)
        return new
    }()

    static let parameters = DeltaParameters(blockLength: 1024, strongLength: 16)

    /// Signatures of the base (two formats' worth of parameters).
    static let signatures: [[UInt8]] = {
        [parameters, DeltaParameters(blockLength: 4096, strongLength: 32)].map { p in
            var out: [UInt8] = []
            let job = try! SignatureGenerator(parameters: p)
            deltaBase.withUnsafeBytes { try! job.feed($0, isLast: true) { out.append(contentsOf: $0) } }
            return out
        }
    }()

    /// A delta of `deltaNew` against the base, and one of an empty file.
    static let deltas: [[UInt8]] = {
        [deltaNew, []].map { new in
            let signature = signatures[0].withUnsafeBytes { try! Signature.load($0) }
            let job = try! DeltaGenerator(signature: signature)
            var out: [UInt8] = []
            new.withUnsafeBytes { try! job.feed($0, isLast: true) { out.append(contentsOf: $0) } }
            return out
        }
    }()

    /// zlib streams of a manifest and of text, as the protocol's data frames carry them.
    static let compressed: [[UInt8]] = {
        [manifests[1], Array(ConfigFile.defaultText.utf8), []].map { plain in
            let deflater = try! Deflater(level: 6)
            var out: [UInt8] = []
            plain.withUnsafeBytes { try! deflater.feed($0, isLast: true) { out.append(contentsOf: $0) } }
            return out
        }
    }()

    /// A configuration file using every key, with two replicas.
    static let configs: [[UInt8]] = {
        let full = """
        # a master
        tree = /etc/webmin/server-manager
        tree = /var/cloudmin/images
        cloudmin_config_dir = /etc/webmin/server-manager
        collected_dir = /var/webmin/modules/server-manager/collected
        image_store = /var/cloudmin/images
        rules = /etc/cloudmin-mirror/rules
        builtin_rules = yes
        state_dir = /var/lib/cloudmin-mirror
        interval = 5m
        identity = /etc/cloudmin-mirror/id_ed25519
        known_hosts = /etc/cloudmin-mirror/known_hosts
        collection_marker = /var/webmin/modules/server-manager/collected/.done
        metrics_file = /var/lib/cloudmin-mirror/metrics.prom
        compression_level = 3

        [replica dr1]
        host = 192.0.2.10
        port = 2222
        user = root
        identity = /etc/cloudmin-mirror/dr1_key
        host_key = SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ

        [replica dr-2.site]
        host = dr2.example.org

        """
        return [Array(full.utf8), Array(ConfigFile.defaultText.utf8)]
    }()

    static let filterRules: [[UInt8]] = [
        Array("# rules\n- *.lock\n+ /keep/**\nexclude /tmp/\ninclude *.conf\n; comment\n-_under score\n\n- trailing  \r\n".utf8),
    ]

    /// The payload of every protocol message type, from its own encoder.
    static let messages: [MessageType: [[UInt8]]] = {
        let d = digests
        let extents = [DataExtent(offset: 0, length: 4096), DataExtent(offset: 1 << 20, length: 8192)]
        return [
            .hello: [HelloRequest(version: ProtocolVersion.current, masterFingerprint: "SHA256:abc", lineage: "L").encoded()],
            .helloReply: [HelloReply(version: 1, role: "replica", acceptedMaster: "SHA256:abc", generation: 9, lineage: "L",
                                     treeDigest: d[0], freeBytes: 1 << 40, staged: Set(d[1...]), partial: [d[0]: 12345]).encoded(),
                          HelloReply(version: 1, role: "replica", acceptedMaster: "", generation: 0, lineage: "",
                                     treeDigest: nil, freeBytes: 0, staged: [], partial: [:]).encoded()],
            .putObject: [PutObject(digest: d[0], size: 3 << 20, extents: extents, resumeAt: 100).encoded(),
                         PutObject(digest: d[1], size: 10, extents: [], resumeAt: 0).encoded()],
            .putDelta: [PutDelta(target: d[0], size: 98304, base: d[1]).encoded()],
            .getSignature: [GetSignature(digest: d[2], blockLength: 2048, strongLength: 32).encoded()],
            .commit: [CommitRequest(generation: 12, lineage: "L", manifestSize: 4096, fullRehash: true).encoded()],
            .flushReply: [FlushReply(stored: 3, failures: [.init(digest: d[0], code: "digestMismatch", message: "changed"),
                                                           .init(digest: d[1], code: "noSpace", message: "full")]).encoded()],
            .commitReply: [CommitReply(generation: 12, treeDigest: d[3], bytesPlaced: 1 << 33).encoded()],
            .error: [ErrorReply(code: "wrongRole", message: "this host is a master").encoded()],
        ]
    }()
}

/// Re-seals an encoding whose integrity check would refuse every mutation, so the fuzzer
/// reaches the parser behind it.
enum Reseal {
    /// A manifest: the header's body length and the trailing SHA-256 made to fit.
    static func manifest(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 56 else { return bytes }
        var out = bytes
        let body = UInt64(out.count - 56)
        for i in 0..<8 { out[16 + i] = UInt8(truncatingIfNeeded: body >> (8 * UInt64(i))) }
        out.replaceSubrange((out.count - 32)..., with: Array(SHA256.hash(data: out[..<(out.count - 32)])))
        return out
    }

    /// A journal: the trailing SHA-256 made to fit.
    static func journal(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 36 else { return bytes }
        var out = bytes
        out.replaceSubrange((out.count - 32)..., with: Array(SHA256.hash(data: out[..<(out.count - 32)])))
        return out
    }
}

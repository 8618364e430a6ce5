import Foundation
import MirrorEngine
import TreeDiff

/// The master's workload: `fixtures/generate large` once, `fixtures/generate churn` per cycle.
struct Workload {
    let generator: String
    let masterRoot: String
    let scratch: String

    /// `generate large MASTER --systems N --image-gib G --images K --seed S [--data-percent P]
    /// [--files-per-system F]`; returns its summary line.
    func generate(_ o: CompareOptions) throws -> String {
        var args = [generator, "large", masterRoot, "--systems", "\(o.systems)", "--image-gib", "\(o.imageGiB)",
                    "--images", "\(o.images)", "--seed", "\(o.seed)", "--data-percent", "\(o.dataPercent)"]
        if o.extraFilesPerSystem > 0 { args += ["--extra-files", "\(o.extraFilesPerSystem)"] }
        return try ChildMeasurement.tool(args, in: scratch).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One churn cycle (`generate churn MASTER --seed S`); returns its summary line.
    func churn(seed: Int) throws -> String {
        try ChildMeasurement.tool([generator, "churn", masterRoot, "--seed", "\(seed)"], in: scratch)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `fixtures/generate` beside the package this binary was built in, or under the cwd.
    static func findGenerator() throws -> String {
        var dir = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("fixtures/generate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        let cwd = FileManager.default.currentDirectoryPath + "/fixtures/generate"
        if FileManager.default.isExecutableFile(atPath: cwd) { return cwd }
        throw BenchFailure(what: "fixtures/generate", detail: "not found beside the build or in the cwd; pass --fixtures DIR")
    }
}

/// The engine's exclusion filter for the master's current state, and the same rules for rsync.
struct MasterFilter {
    let trees: [String]
    let filter: CloudminFilter

    /// Reads the master's records (they change with churn: rebuild before every phase).
    init(masterRoot: String) throws {
        let context = try MirrorContext(root: masterRoot)
        trees = context.trees
        filter = try context.exclusionFilter().filter
    }

    /// The rules as an rsync filter file (`--filter='merge FILE'`), for a transfer of the
    /// mirror root (`MASTER/` to `REPLICA/`): the engine's rules in order (first match wins
    /// in both), then the trees and their parent directories included, everything else
    /// excluded, since the engine scans only its trees.
    var rsyncRules: String { Self.rsyncRules(filter.rules, trees: trees) }

    static func rsyncRules(_ rules: [FilterRule], trees: [String]) -> String {
        var lines = rules.map { "\($0.action.rawValue) \($0.pattern.text)" }
        var parents: [String] = []
        for tree in trees {
            let parts = tree.split(separator: "/").map(String.init)
            for n in 1..<max(1, parts.count) {
                let parent = "+ /" + parts.prefix(n).joined(separator: "/") + "/"
                if !parents.contains(parent) { parents.append(parent) }
            }
        }
        lines += parents
        lines += trees.map { "+ /\($0)/***" }
        lines.append("- *")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The master's trees scanned with the filter.
    func masterManifest(_ root: String) throws -> Manifest {
        try Scanner(root: root, trees: trees, filter: filter).scan().manifest.replicated
    }

    /// A replica's trees scanned as they are.
    func replicaManifest(_ root: String) throws -> Manifest {
        try Scanner(root: root, trees: trees).scan().manifest.replicated
    }
}

/// The size of the data that actually changed between a replica's state and the master's,
/// compressed as one deflate stream at level 1 (gzip -1 without the header):
/// whole new content of every new or changed file up to 1 MiB, and of bigger files only the
/// 4 KiB blocks that differ (read where either side holds data; holes read as zeros).
/// Deletions, renames and metadata carry no data and count nothing.
struct ChangedData: Codable, Sendable {
    var files = 0
    var blocks = 0
    var rawBytes: Int64 = 0
    var compressedBytes: Int64 = 0

    static let wholeFileLimit: Int64 = 1 << 20
    static let block = 4096

    static func measure(master: String, masterManifest: Manifest, previous: String, previousManifest: Manifest) throws -> ChangedData {
        var result = ChangedData()
        let deflater = try Deflater(level: 1)
        func feed(_ bytes: [UInt8]) throws {
            result.rawBytes += Int64(bytes.count)
            try bytes.withUnsafeBytes { buffer in
                try deflater.feed(buffer, isLast: false) { result.compressedBytes += Int64($0.count) }
            }
        }
        for entry in masterManifest.entries where entry.kind == .file {
            let old = previousManifest[entry.path]
            if let old, old.kind == .file, old.digest == entry.digest { continue }
            result.files += 1
            let newPath = master + "/" + entry.path
            if entry.size <= wholeFileLimit || old == nil || old?.kind != .file {
                try feed(Array(try Data(contentsOf: URL(fileURLWithPath: newPath))))
                continue
            }
            let oldPath = previous + "/" + entry.path
            for blockIndex in try dataBlocks(newPath).union(try dataBlocks(oldPath)).sorted() {
                let a = try readBlock(newPath, blockIndex), b = try readBlock(oldPath, blockIndex)
                if a != b {
                    result.blocks += 1
                    try feed(a)
                }
            }
        }
        try [UInt8]().withUnsafeBytes { buffer in
            try deflater.feed(buffer, isLast: true) { result.compressedBytes += Int64($0.count) }
        }
        return result
    }

    /// Indexes of the 4 KiB blocks that hold data (SEEK_DATA / SEEK_HOLE).
    private static func dataBlocks(_ path: String) throws -> Set<Int> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure(what: path, detail: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        var blocks = Set<Int>()
        var pos: off_t = 0
        while pos < end {
            let start = lseek(fd, pos, 3 /* SEEK_DATA */)
            if start < 0 { break }
            let stop = lseek(fd, start, 4 /* SEEK_HOLE */)
            for b in Int(start) / block..<(Int(stop) + block - 1) / block { blocks.insert(b) }
            pos = stop
        }
        return blocks
    }

    private static func readBlock(_ path: String, _ index: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure(what: path, detail: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: block)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, block, off_t(index * block)) }
        return Array(buffer.prefix(max(0, n)))
    }
}

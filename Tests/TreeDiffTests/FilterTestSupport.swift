import Foundation
import TreeDiff

/// A scratch directory for one test, removed when the value is released.
final class FilterScratch {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("filter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Creates a file (and its parent directories) with some text.
    func file(_ relativePath: String, _ text: String = "x\n") throws {
        let target = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: target)
    }

    func directory(_ relativePath: String) throws {
        try FileManager.default.createDirectory(at: url.appendingPathComponent(relativePath), withIntermediateDirectories: true)
    }

    func symlink(_ relativePath: String, to destination: String) throws {
        let target = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: destination)
    }
}

/// Every entry under `root` (root-relative, symlinks not followed), with whether it is a directory.
func listTree(_ root: String) throws -> [(path: String, isDirectory: Bool)] {
    var out: [(String, Bool)] = []
    func walk(_ relative: String) throws {
        let full = relative.isEmpty ? root : root + "/" + relative
        for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
            let child = relative.isEmpty ? name : relative + "/" + name
            let type = try FileManager.default.attributesOfItem(atPath: root + "/" + child)[.type] as? FileAttributeType
            let isDirectory = type == .typeDirectory
            out.append((child, isDirectory))
            if isDirectory { try walk(child) }
        }
    }
    try walk("")
    return out
}

/// The paths a scan would replicate: parents decided before children, excluded directories
/// not entered. Directories are reported with a trailing `/`, as rsync prints them.
func scanIncluded(_ root: String, filter: some PathFilter) throws -> Set<String> {
    var included: Set<String> = []
    for entry in try listTree(root) where filter.decideWithAncestors(entry.path, isDirectory: entry.isDirectory).decision.included {
        included.insert(entry.isDirectory ? entry.path + "/" : entry.path)
    }
    return included
}

/// The paths `rsync -a` would transfer from `root` with the given filter arguments.
func rsyncIncluded(_ root: String, filterArguments: [String]) throws -> Set<String> {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["rsync", "-a", "--dry-run", "--out-format=%n"] + filterArguments
        + [root + "/", root + "-rsync-destination-that-does-not-exist/"]
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw RsyncFailed(status: process.terminationStatus, stderr: errors)
    }
    var names = Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    names.remove("./")
    return names
}

struct RsyncFailed: Error, CustomStringConvertible {
    let status: Int32
    let stderr: String
    var description: String { "rsync exited with \(status): \(stderr)" }
}

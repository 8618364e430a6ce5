import Foundation
import TestSupport

/// A materialized copy of `fixtures/master` in a fresh temporary directory, removed on deinit.
final class CLIFixture {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cli-root-\(UUID().uuidString)")
        try Fixtures.materializeSmall(into: root)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
        try? FileManager.default.removeItem(at: root.appendingPathExtension("rules"))
    }

    /// Writes a file under the root (an absolute path as Cloudmin sees it), creating directories.
    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(String(path.drop { $0 == "/" }))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A rules file outside the root, removed with the fixture.
    func rulesFile(_ text: String) throws -> String {
        let url = root.appendingPathExtension("rules")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Runs `cloudmin-mirror scan --root ROOT ARGS...`.
    func scan(_ arguments: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(["scan", "--root", root.path] + arguments)
    }
}

/// Typed views of the `--json` output.
struct ScanJSON {
    let object: [String: Any]
    init(_ result: CLIRunner.Result) throws { object = try result.jsonObject() }

    var entries: [[String: Any]] { object["entries"] as? [[String: Any]] ?? [] }
    var entryPaths: Set<String> { Set(entries.compactMap { $0["path"] as? String }) }
    var excluded: [[String: Any]] { object["excluded"] as? [[String: Any]] ?? [] }
    var excludedPaths: Set<String> { Set(excluded.compactMap { $0["path"] as? String }) }
    var warnings: [[String: Any]] { object["warnings"] as? [[String: Any]] ?? [] }
    var stats: [String: Any] { object["stats"] as? [String: Any] ?? [:] }
    func entry(_ path: String) -> [String: Any]? { entries.first { $0["path"] as? String == path } }
}

enum Paths {
    static let config = "etc/webmin/server-manager"
    static let collected = "var/webmin/modules/server-manager/collected"
    static let images = "var/cloudmin/images"
    /// A guest with `parent=0`: its record is excluded, its status replicated.
    static let guestOnMaster = "1371467300000"
    /// A guest on another host.
    static let remoteGuest = "1371467300013"
}

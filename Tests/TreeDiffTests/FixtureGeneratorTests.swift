import Foundation
import Testing
import TestSupport

/// Bytes actually allocated on disk for a file.
private func allocatedBytes(_ path: String) throws -> Int {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw CocoaError(.fileReadNoSuchFile) }
    return Int(info.st_blocks) * 512
}

private func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
}

/// Every file's contents under a root, symlinks as their targets.
private func snapshot(_ root: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    for entry in try listTree(root) where !entry.isDirectory {
        let full = root + "/" + entry.path
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
            out[entry.path] = Data(("-> " + target).utf8)
        } else {
            out[entry.path] = try Data(contentsOf: URL(fileURLWithPath: full))
        }
    }
    return out
}

@Suite struct FixtureGenerator {
    @Test func smallFixtureIsSparsePrivateAndHasItsSymlink() throws {
        let scratch = try FilterScratch()
        try Fixtures.materializeSmall(into: scratch.url)
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: TestSupport.packageRoot.appendingPathComponent("fixtures/master-images.json"))) as? [String: [String: Any]]
        let images = try #require(spec)
        try #require(!images.isEmpty)
        for (path, info) in images {
            let full = scratch.path + "/" + path
            let size = try #require(info["size"] as? Int)
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            #expect(attributes[.size] as? Int == size)
            #expect(try allocatedBytes(full) < size / 8, "\(path) is not sparse")
            #expect(try mode(full) == 0o600)
        }
        #expect(try mode(scratch.path + "/etc/webmin/server-manager/config") == 0o600)
        #expect(try mode(scratch.path + "/etc/webmin/server-manager") == 0o700)
        #expect(try mode(scratch.path + "/etc/server-manager-license") == 0o600)
        let links = try listTree(scratch.path).filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: scratch.path + "/" + $0.path)) != nil
        }
        #expect(links.count == 1)
        // Everything committed arrives (images grow, everything else is byte-identical).
        let committed = try snapshot(TestSupport.packageRoot.appendingPathComponent("fixtures/master").path)
        let materialized = try snapshot(scratch.path)
        #expect(Set(committed.keys) == Set(materialized.keys))
        for (path, data) in committed where images[path] == nil {
            #expect(materialized[path] == data, "\(path)")
        }
    }

    @Test func churnIsDeterministicAndTouchesWhatACycleTouches() throws {
        let a = try FilterScratch()
        let b = try FilterScratch()
        try Fixtures.materializeSmall(into: a.url)
        try Fixtures.materializeSmall(into: b.url)
        let before = try snapshot(a.path)
        try Fixtures.churn(a.url, seed: 7)
        try Fixtures.churn(b.url, seed: 7)
        let after = try snapshot(a.path)
        #expect(after == (try snapshot(b.path)))

        let collected = "var/webmin/modules/server-manager/collected/"
        let statusesBefore = before.keys.filter { $0.hasPrefix(collected) && !$0.contains(".") }
        let changed = Set(after.keys.filter { before[$0] != nil && before[$0] != after[$0] })
        let kept = statusesBefore.filter { after[$0] != nil }
        #expect(kept.allSatisfy { changed.contains($0) })
        let serv = { (s: [String: Data]) in Set(s.keys.filter { $0.hasSuffix(".serv") }) }
        #expect(serv(after).subtracting(serv(before)).count == 1)
        #expect(serv(before).subtracting(serv(after)).count == 1)
        #expect(changed.contains { $0.hasPrefix("var/cloudmin/images/") })
        #expect(changed.contains { $0.contains("/bandwidth/") })

        try Fixtures.churn(b.url, seed: 8)
        #expect(try snapshot(b.path) != after)
    }

    @Test func badArgumentsFail() throws {
        #expect(throws: Fixtures.GeneratorError.self) { try Fixtures.run(["large", "/nonexistent-dest"]) }
        #expect(throws: Fixtures.GeneratorError.self) { try Fixtures.run(["churn", "/nonexistent-root-for-churn"]) }
    }
}

import Foundation
import Testing
import TestSupport
@testable import TreeDiff

/// A test-side reading of the fixture's records, independent of `WebminRecord`.
private func keyValues(_ path: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        out[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return out
}

/// What the built-in rules must exclude from a tree, worked out from its records: the top-most
/// excluded paths with the kind of rule expected to exclude each.
private func expectedExclusions(root: String, layout: CloudminLayout) throws -> [String: String] {
    var expected: [String: String] = [:]
    let tree = try listTree(root)
    for entry in tree {
        let name = entry.path.split(separator: "/").last.map(String.init) ?? ""
        if name.hasSuffix(".lock") { expected[entry.path] = "lock" }
        if name.contains(".webmintmp.") { expected[entry.path] = "temp" }
    }
    expected[layout.collectedDirectory + "/0"] = "masterStatus"
    expected[layout.masterSettingsFile] = "masterSettings"
    expected[layout.licenseFile] = "licence"
    let config = root + "/" + layout.configDirectory
    for name in try FileManager.default.contentsOfDirectory(atPath: config) where name.hasSuffix(".serv") {
        let id = String(name.dropLast(5))
        guard try keyValues(config + "/" + name)["parent"] == "0" else { continue }
        for entry in tree where entry.path.hasPrefix(layout.configDirectory + "/" + id + ".")
            || entry.path == layout.configDirectory + "/" + id {
            expected[entry.path] = expected[entry.path] ?? "guest \(id)"
        }
    }
    let images = root + "/" + layout.imageRecordsDirectory
    for name in try FileManager.default.contentsOfDirectory(atPath: images) where name.hasSuffix(".image") {
        let record = try keyValues(images + "/" + name)
        guard let location = record["location"], location != "local" else { continue }
        expected[layout.imageRecordsDirectory + "/" + name] = "imageRecord"
        if let file = record["file"] { expected[layout.imageStore + "/" + file] = "imagePayload" }
    }
    // Only paths that exist in the tree can be excluded by a scan.
    let existing = Set(tree.map(\.path))
    return expected.filter { existing.contains($0.key) }
}

private func kindName(_ kind: CloudminExclusion.Kind) -> String {
    switch kind {
    case .masterStatus: return "masterStatus"
    case .masterSettings: return "masterSettings"
    case .licence: return "licence"
    case .lockFile: return "lock"
    case .webminTempFile: return "temp"
    case let .guestOnMaster(id): return "guest \(id)"
    case .remoteImageRecord: return "imageRecord"
    case .remoteImagePayload: return "imagePayload"
    }
}

/// The paths a scan excludes (top-most only: nothing under an excluded directory is asked).
private func scanExcluded(_ root: String, _ filter: CloudminFilter) throws -> [String: CloudminFilter.Explanation] {
    var out: [String: CloudminFilter.Explanation] = [:]
    for entry in try listTree(root) {
        let explanation = filter.explain(entry.path, isDirectory: entry.isDirectory)
        if !explanation.decision.included && explanation.excludedAncestor == nil { out[entry.path] = explanation }
    }
    return out
}

@Suite struct CloudminBuiltInRules {
    @Test func fixtureExclusionsAreExactlyWhatTheRecordsSay() throws {
        let scratch = try FilterScratch()
        try Fixtures.materializeSmall(into: scratch.url)
        let layout = CloudminLayout()
        let (filter, warnings) = try CloudminFilter.load(root: scratch.path, layout: layout)
        #expect(warnings.isEmpty)

        let expected = try expectedExclusions(root: scratch.path, layout: layout)
        // The fixture must exercise every kind of rule, or this test proves little.
        let kinds = Set(expected.values.map { $0.hasPrefix("guest") ? "guest" : $0 })
        #expect(kinds == ["lock", "temp", "masterStatus", "masterSettings", "licence", "guest", "imageRecord", "imagePayload"])
        #expect(expected.keys.contains { $0.hasPrefix(layout.configDirectory + "/") && !$0.hasSuffix(".serv") && expected[$0]!.hasPrefix("guest") })

        let excluded = try scanExcluded(scratch.path, filter)
        #expect(Set(excluded.keys) == Set(expected.keys),
                "unexpected: \(Set(excluded.keys).subtracting(expected.keys).sorted()), missed: \(Set(expected.keys).subtracting(excluded.keys).sorted())")
        for (path, explanation) in excluded {
            guard case let .builtIn(exclusion)? = explanation.decider else {
                Issue.record("\(path) not excluded by a built-in rule")
                continue
            }
            #expect(kindName(exclusion.kind) == expected[path], "\(path)")
            #expect(explanation.decision.rule == exclusion.rule.description)
            if case .builtIn = exclusion.rule.source {} else { Issue.record("\(path): rule without a built-in source") }
        }
    }

    @Test func guestsOnTheMasterKeepTheirStatus() throws {
        let scratch = try FilterScratch()
        try Fixtures.materializeSmall(into: scratch.url)
        let layout = CloudminLayout()
        let (rules, _) = try CloudminRules.load(root: scratch.path, layout: layout)
        let filter = CloudminFilter(builtIn: rules)
        let guests = rules.compactMap { rule -> String? in
            if case let .guestOnMaster(id) = rule.kind { return id } else { return nil }
        }
        try #require(!guests.isEmpty)
        for id in guests {
            #expect(!filter.decide("\(layout.configDirectory)/\(id).serv", isDirectory: false).included)
            #expect(filter.decide("\(layout.collectedDirectory)/\(id)", isDirectory: false).included)
        }
    }

    @Test func userRulesComeAfterTheBuiltInOnes() throws {
        let scratch = try FilterScratch()
        try Fixtures.materializeSmall(into: scratch.url)
        let user = FilterList(try FilterRulesParser.parse("+ /etc/server-manager-license\n- *.notes\n+ *.lock\n", file: "site.rules"))
        let (filter, _) = try CloudminFilter.load(root: scratch.path, user: user)
        #expect(filter.rules.suffix(3) == user.rules)
        // A user include cannot bring back what must never leave the master.
        #expect(!filter.decide("etc/server-manager-license", isDirectory: false).included)
        #expect(!filter.decide("etc/webmin/server-manager/config.lock", isDirectory: false).included)
        // A user exclude applies where no built-in rule decided.
        let notes = try listTree(scratch.path).map(\.path).filter { $0.hasSuffix(".notes") }
        try #require(!notes.isEmpty)
        var byUser = 0
        for path in notes {
            let explanation = filter.explain(path, isDirectory: false)
            #expect(!explanation.decision.included)
            if case let .user(rule)? = explanation.decider {
                #expect(rule.source == .file(path: "site.rules", line: 2))
                byUser += 1
            }
        }
        #expect(byUser > 0 && byUser < notes.count)
    }

    @Test func malformedRecordsWarnAndAreReplicated() throws {
        let scratch = try FilterScratch()
        let config = "etc/webmin/server-manager"
        try scratch.file("\(config)/100.serv", "id=100\nparent=0\n")
        try scratch.file("outside/evil.serv", "id=101\nparent=0\n")
        try scratch.symlink("\(config)/101.serv", to: scratch.path + "/outside/evil.serv")
        try Data("id=102\nparent=0\n\u{0}\u{1}garbage".utf8).write(to: scratch.url.appendingPathComponent("\(config)/102.serv"))
        try scratch.file("\(config)/103.serv", "id=999\nparent=0\n")
        try scratch.file("\(config)/104.serv", String(repeating: "pad=xxxxxxxxxxxxxxx\n", count: 60_000) + "parent=0\n")
        let (rules, warnings) = try CloudminRules.load(root: scratch.path)
        let guests = Set(rules.compactMap { rule -> String? in
            if case let .guestOnMaster(id) = rule.kind { return id } else { return nil }
        })
        #expect(guests == ["100"])
        let warned = Dictionary(warnings.map { ($0.path, $0.code) }, uniquingKeysWith: { a, _ in a })
        #expect(warned == [
            "\(config)/101.serv": .unreadableRecord,
            "\(config)/102.serv": .unreadableRecord,
            "\(config)/103.serv": .idMismatch,
            "\(config)/104.serv": .unreadableRecord,
        ])
        let filter = CloudminFilter(builtIn: rules)
        for id in ["101", "102", "103", "104"] {
            #expect(filter.decide("\(config)/\(id).serv", isDirectory: false).included)
        }
    }

    @Test func imagePayloadPathsNeverLeaveTheStore() throws {
        let scratch = try FilterScratch()
        let images = "etc/webmin/server-manager/images"
        let store = "var/cloudmin/images"
        try scratch.file("\(images)/1.image", "id=1\nlocation=s3\nfile=../../../../etc/passwd\n")
        try scratch.file("\(images)/2.image", "id=2\nlocation=s3\nfile=/etc/server-manager-license\n")
        try scratch.file("\(images)/3.image", "id=3\nlocation=s3\nfile=/var/cloudmin/images/../../../etc/shadow\n")
        try scratch.file("\(images)/4.image", "id=4\nlocation=s3\nfile=/var/cloudmin/images/ok.img\n")
        try scratch.file("\(images)/5.image", "id=5\nlocation=s3\nfile=sub/./nested.img\n")
        try scratch.file("\(images)/6.image", "id=6\nlocation=s3\nfile=/var/cloudmin/images\n")
        try scratch.file("\(images)/7.image", "id=7\nname=no location\nfile=seven.img\n")
        try scratch.file("\(images)/8.image", "id=8\nlocation=local\nfile=eight.img\n")
        for file in ["etc/passwd", "etc/shadow", "\(store)/ok.img", "\(store)/sub/nested.img", "\(store)/seven.img", "\(store)/eight.img"] {
            try scratch.file(file)
        }
        let (rules, warnings) = try CloudminRules.load(root: scratch.path)
        let warned = Dictionary(warnings.map { ($0.path, $0.code) }, uniquingKeysWith: { a, _ in a })
        #expect(warned == [
            "\(images)/1.image": .payloadOutsideStore,
            "\(images)/2.image": .payloadOutsideStore,
            "\(images)/3.image": .payloadOutsideStore,
            "\(images)/6.image": .payloadOutsideStore,
            "\(images)/7.image": .missingImageLocation,
        ])
        let filter = CloudminFilter(builtIn: rules)
        let excluded = try scanExcluded(scratch.path, filter)
        #expect(Set(excluded.keys) == [
            "\(images)/1.image", "\(images)/2.image", "\(images)/3.image", "\(images)/4.image",
            "\(images)/5.image", "\(images)/6.image", "\(store)/ok.img", "\(store)/sub/nested.img",
        ])
    }

    @Test func aSymlinkedConfigDirectoryIsNeverRead() throws {
        let scratch = try FilterScratch()
        try scratch.file("elsewhere/server-manager/7.serv", "id=7\nparent=0\n")
        try scratch.symlink("etc/webmin/server-manager", to: scratch.path + "/elsewhere/server-manager")
        let (rules, warnings) = try CloudminRules.load(root: scratch.path)
        #expect(!rules.contains { if case .guestOnMaster = $0.kind { true } else { false } })
        // Both the config directory and the image records inside it are behind the link.
        #expect(Set(warnings.map(\.code)) == [.unreadableDirectory])
        #expect(warnings.map(\.path).contains("etc/webmin/server-manager"))
    }

    @Test func aCustomLayoutMovesEveryRule() throws {
        var layout = CloudminLayout()
        layout.configDirectory = "srv/cm/config"
        layout.collectedDirectory = "srv/cm/status"
        layout.masterSettingsFile = "srv/cm/config/self"
        layout.licenseFile = "srv/cm/licence"
        layout.imageRecordsDirectory = "srv/cm/config/img"
        layout.imageStore = "data/images"
        let scratch = try FilterScratch()
        try scratch.file("srv/cm/config/5.serv", "id=5\nparent=0\n")
        try scratch.file("srv/cm/config/img/1.image", "location=s3\nfile=a.img\n")
        let filter = CloudminFilter(builtIn: try CloudminRules.load(root: scratch.path, layout: layout).rules)
        for path in ["srv/cm/status/0", "srv/cm/config/self", "srv/cm/licence", "srv/cm/config/5.serv",
                     "srv/cm/config/img/1.image", "data/images/a.img"] {
            #expect(!filter.decide(path, isDirectory: false).included, "\(path)")
        }
        for path in ["var/webmin/modules/server-manager/collected/0", "etc/webmin/server-manager/this", "srv/cm/status/5"] {
            #expect(filter.decide(path, isDirectory: false).included, "\(path)")
        }
        #expect(layout.defaultTrees == ["srv/cm/config", "srv/cm/status", "data/images"])
    }

    @Test(arguments: ["/etc/webmin", "", "etc/../x", "etc//x", "./etc"])
    func invalidLayoutsAreRefused(_ path: String) {
        var layout = CloudminLayout()
        layout.imageStore = path
        #expect { try CloudminRules.load(root: "/", layout: layout) } throws: {
            ($0 as? CloudminError)?.code == .invalidLayout
        }
    }
}

@Suite struct CloudminExplain {
    @Test func explainNamesTheExcludedAncestor() throws {
        let scratch = try FilterScratch()
        try scratch.file("etc/webmin/server-manager/5.serv", "id=5\nparent=0\n")
        try scratch.file("etc/webmin/server-manager/5/history", "h\n")
        let user = FilterList(try FilterRulesParser.parse("- /var/cache/\n", file: "site.rules"))
        let (filter, _) = try CloudminFilter.load(root: scratch.path, user: user)
        let inGuest = filter.explain("etc/webmin/server-manager/5/history", isDirectory: false)
        #expect(!inGuest.decision.included)
        #expect(inGuest.excludedAncestor == "etc/webmin/server-manager/5")
        guard case let .builtIn(exclusion)? = inGuest.decider else { Issue.record("no built-in decider"); return }
        #expect(exclusion.kind == .guestOnMaster(systemID: "5"))
        // The path alone would pass: only the scan order hides it.
        #expect(filter.decide("etc/webmin/server-manager/5/history", isDirectory: false).included)

        let inCache = filter.explain("var/cache/x/y", isDirectory: false)
        #expect(inCache.excludedAncestor == "var/cache")
        #expect(inCache.decider == .user(user.rules[0]))
        let plain = filter.explain("var/other", isDirectory: false)
        #expect(plain.decision == .defaultInclude && plain.decider == nil && plain.excludedAncestor == nil)
    }
}

import Foundation
import Testing
import TreeDiff

@Suite struct FilterRulesParsing {
    @Test func acceptsShortAndLongFormsCommentsAndBlankLines() throws {
        let text = """
        # Cloudmin replica rules
        ; another comment

        - *.lock
        + /etc/webmin/server-manager/keep.lock
        exclude cache/
        include /var/***
        -_underscore
        \t
        - trailing space 
        """
        let rules = try FilterRulesParser.parse(text, file: "rules.conf")
        #expect(rules.map(\.action) == [.exclude, .include, .exclude, .include, .exclude, .exclude])
        #expect(rules.map(\.pattern.text) == ["*.lock", "/etc/webmin/server-manager/keep.lock", "cache/", "/var/***",
                                               "underscore", "trailing space "])
        #expect(rules.map(\.source) == [4, 5, 6, 7, 8, 10].map { RuleSource.file(path: "rules.conf", line: $0) })
        #expect(rules[0].description == "\"- *.lock\" (rules.conf:4)")
    }

    @Test func windowsLineEndingsAreNotPartOfPatterns() throws {
        let rules = try FilterRulesParser.parse("- *.lock\r\n+ keep\r\n", file: "r")
        #expect(rules.map(\.pattern.text) == ["*.lock", "keep"])
    }

    @Test(arguments: [
        ("merge /etc/rules", FilterError.Code.unknownRuleType),
        ("dir-merge .rsync-filter", .unknownRuleType),
        (": .rsync-filter", .unknownRuleType),
        ("P /etc", .unknownRuleType),
        ("H *.lock", .unknownRuleType),
        ("-! *.lock", .unknownRuleType),
        ("-/ /abs", .unknownRuleType),
        ("+foo", .unknownRuleType),
        ("excludes foo", .unknownRuleType),
        ("!", .unknownRuleType),
        ("  - indented", .unknownRuleType),
        ("-", .missingPattern),
        ("- ", .missingPattern),
        ("include", .missingPattern),
        ("exclude ", .missingPattern),
    ])
    func refusesWhatItDoesNotImplement(_ line: String, _ code: FilterError.Code) {
        let text = "# header\n- ok\n\(line)\n+ later\n"
        #expect {
            try FilterRulesParser.parse(text, file: "site.rules")
        } throws: { error in
            guard let error = error as? FilterError else { return false }
            return error.code == code && error.file == "site.rules" && error.line == 3 && error.text == line
        }
    }

    @Test func loadsAFileAndNamesItInSources() throws {
        let scratch = try FilterScratch()
        try scratch.file("rules.conf", "- *.lock\n+ /keep\n")
        let list = try FilterList.load(contentsOf: scratch.path + "/rules.conf", displayName: "rules.conf")
        #expect(list.rules.count == 2)
        let decision = list.decide("etc/a.lock", isDirectory: false)
        #expect(!decision.included)
        #expect(decision.rule == list.rules[0].description)
        #expect(list.decide("keep", isDirectory: false).included)
        #expect(list.decide("other", isDirectory: false) == .defaultInclude)
    }

    @Test func unreadableFilesAreErrorsNamingTheFile() throws {
        let scratch = try FilterScratch()
        try scratch.directory("a-directory")
        try scratch.file("binary", "")
        try Data([0x2d, 0x20, 0xff, 0xfe, 0x0a]).write(to: scratch.url.appendingPathComponent("binary"))
        for (name, code) in [("missing", FilterError.Code.unreadable), ("a-directory", .unreadable), ("binary", .notText)] {
            #expect {
                try FilterList.load(contentsOf: scratch.path + "/" + name)
            } throws: { error in
                (error as? FilterError)?.code == code && (error as? FilterError)?.file == scratch.path + "/" + name
            }
        }
    }

    @Test func firstMatchWinsAndNoMatchIncludes() throws {
        let list = FilterList(try FilterRulesParser.parse("+ keep.lock\n- *.lock\n- keep.lock\n", file: "r"))
        #expect(list.decide("a/keep.lock", isDirectory: false).included)
        #expect(list.firstMatch("a/keep.lock", isDirectory: false)?.source == .file(path: "r", line: 1))
        #expect(!list.decide("a/other.lock", isDirectory: false).included)
        #expect(list.firstMatch("a/other", isDirectory: false) == nil)
    }

    @Test func anchoredLiteralsMatchOnlyTheirPath() {
        for path in ["etc/a*b", "etc/[x]", "etc/back\\slash", "etc/plain", "etc/q?"] {
            let pattern = FilterPattern(FilterPattern.anchoredLiteral(path))
            #expect(pattern.matches(path, isDirectory: false))
            #expect(!pattern.matches("x/" + path, isDirectory: false))
            #expect(!pattern.matches(path + "x", isDirectory: false))
        }
        #expect(!FilterPattern(FilterPattern.anchoredLiteral("etc/a*b")).matches("etc/axxb", isDirectory: false))
        #expect(!FilterPattern(FilterPattern.anchoredLiteral("etc/q?")).matches("etc/qz", isDirectory: false))
    }
}

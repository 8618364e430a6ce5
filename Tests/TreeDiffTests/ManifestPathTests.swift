import Testing
@testable import TreeDiff

@Suite struct ManifestPathTests {
    @Test(arguments: [
        ("etc/webmin/server-manager/12.serv", nil),
        ("a", nil),
        ("..a/b..c/.hidden", nil),
        ("", RelativePathError.Code.empty),
        ("/etc", .absolute),
        ("etc/", .emptyComponent),
        ("etc//x", .emptyComponent),
        ("./etc", .dotComponent),
        ("etc/.", .dotComponent),
        ("..", .dotDotComponent),
        ("etc/../../x", .dotDotComponent),
        ("etc/a\u{0}b", .nulByte),
        (String(repeating: "x", count: 256), .tooLong),
    ] as [(String, RelativePathError.Code?)])
    func validation(path: String, expected: RelativePathError.Code?) {
        do {
            try RelativePath.validate(path)
            #expect(expected == nil)
        } catch {
            #expect(error.code == expected)
            #expect(error.path == path)
        }
    }

    @Test func parentsAndOrder() {
        #expect(RelativePath.parent(of: "a/b/c") == "a/b")
        #expect(RelativePath.parent(of: "a") == nil)
        #expect(RelativePath.isInside("a/b", ancestor: "a"))
        #expect(!RelativePath.isInside("ab", ancestor: "a"))
        #expect(!RelativePath.isInside("a", ancestor: "a"))
        #expect(RelativePath.precedes("a", "a-c") && RelativePath.precedes("a-c", "a/b"))
    }
}

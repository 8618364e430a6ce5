import Testing
@testable import TreeDiff

@Test func defaultFilterIncludes() {
    #expect(IncludeEverything().decide("etc/x", isDirectory: false) == .defaultInclude)
}

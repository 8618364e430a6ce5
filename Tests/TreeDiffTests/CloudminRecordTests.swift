import Foundation
import Testing
import TreeDiff

@Suite struct CloudminWebminRecord {
    @Test func parsesAsWebminDoes() throws {
        let text = "id=12\n#parent=0\nhost=a=b.example.net\nno equals here\n desc = spaced \nempty=\nstatus=down\r\nstatus=alive\n"
        let record = try WebminRecord(bytes: Array(text.utf8))
        #expect(record["id"] == "12")
        #expect(record["parent"] == nil)
        #expect(record["host"] == "a=b.example.net")
        #expect(record[" desc "] == " spaced ")
        #expect(record["empty"] == "")
        #expect(record["status"] == "alive")
        #expect(record.entries.map(\.key) == ["id", "host", " desc ", "empty", "status"])
    }

    @Test func readsInsideTheTreeOnly() throws {
        let scratch = try FilterScratch()
        try scratch.file("etc/a.serv", "id=1\n")
        try scratch.file("outside.serv", "id=2\n")
        try scratch.symlink("etc/link.serv", to: scratch.path + "/outside.serv")
        try scratch.symlink("etc/dirlink", to: scratch.path)
        try scratch.file("etc/big.serv", String(repeating: "k=v\n", count: WebminRecord.maximumSize / 4 + 1))
        #expect(try WebminRecord.read("etc/a.serv", under: scratch.path)["id"] == "1")
        let cases: [(String, WebminRecordError.Code)] = [
            ("etc/link.serv", .notRegularFile), ("etc/dirlink/outside.serv", .unreadable),
            ("etc/../outside.serv", .unreadable), ("etc/missing.serv", .notFound),
            ("etc", .notRegularFile), ("etc/big.serv", .tooLarge),
        ]
        for (path, code) in cases {
            #expect { try WebminRecord.read(path, under: scratch.path) } throws: {
                ($0 as? WebminRecordError)?.code == code && ($0 as? WebminRecordError)?.path == path
            }
        }
    }
}

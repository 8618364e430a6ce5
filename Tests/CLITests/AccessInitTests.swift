import Foundation
import Testing
import TestSupport

/// `replica init` and `replica set-master` run as the built binary: roles and authorized_keys.
@Suite struct AccessInitTests {
    struct Host {
        let dir: ScratchDirectory
        let root: String
        let authorizedKeys: String
        init() throws {
            dir = try ScratchDirectory(prefix: "cm-access-init")
            root = dir.file("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            authorizedKeys = dir.file("ssh/authorized_keys")
        }
        func key(_ name: String) throws -> String {
            try TestKeys.generate(.ed25519, in: dir.path, name: name).privateKeyPath + ".pub"
        }
        func run(_ subcommand: String, _ keyFile: String, _ extra: [String] = []) throws -> Finished {
            try Access.tool(["replica", subcommand, "--root", root, "--master-key", keyFile,
                             "--authorized-keys", authorizedKeys] + extra)
        }
        var text: String { (try? String(contentsOfFile: authorizedKeys, encoding: .utf8)) ?? "" }
    }

    @Test func initOnAMasterIsRefused() throws {
        let host = try Host()
        try Access.writeRole(#"{"role":"master","lineage":"L","since":0}"#, root: host.root)
        let run = try host.run("init", host.key("m"))
        #expect(run.status != 0)
        #expect(Access.role(root: host.root) == "master")
        #expect(!FileManager.default.fileExists(atPath: host.authorizedKeys))
    }

    @Test func repeatedInitKeepsOtherLinesAndOneEntry() throws {
        let host = try Host()
        try FileManager.default.createDirectory(atPath: host.dir.file("ssh"), withIntermediateDirectories: true)
        let unrelated = "# keep me\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake admin@desk\n"
        try unrelated.write(toFile: host.authorizedKeys, atomically: true, encoding: .utf8)
        let master = try host.key("m")
        #expect(try host.run("init", master).status == 0)
        #expect(try host.run("init", master).status == 0)
        #expect(host.text.hasPrefix(unrelated))
        #expect(Access.markedLines(host.authorizedKeys).count == 1)
        #expect(Access.role(root: host.root) == "replica")
    }

    @Test func initWithAnotherMasterNeedsForce() throws {
        let host = try Host()
        let first = try host.key("a"), second = try host.key("b")
        #expect(try host.run("init", first).status == 0)
        let before = host.text
        let refused = try host.run("init", second)
        #expect(refused.status != 0)
        #expect(host.text == before)
        let forced = try host.run("init", second, ["--force"])
        #expect(forced.status == 0)
        let secondLine = try String(contentsOfFile: second, encoding: .utf8).split(separator: " ")[1]
        #expect(Access.markedLines(host.authorizedKeys).count == 1)
        #expect(Access.markedLines(host.authorizedKeys).first?.contains(secondLine) == true)
    }

    @Test func badKeysAndPathsAreRefusedWithoutChanges() throws {
        let host = try Host()
        let rsa = try TestKeys.generate(.rsa, in: host.dir.path, name: "rsa").privateKeyPath + ".pub"
        #expect(try host.run("init", rsa).status != 0)
        #expect(try host.run("init", host.dir.file("missing.pub")).status != 0)
        let quoted = host.dir.file("a\"b")
        try FileManager.default.createDirectory(atPath: quoted, withIntermediateDirectories: true)
        let badRoot = try Access.tool(["replica", "init", "--root", quoted, "--master-key", host.key("m"),
                                       "--authorized-keys", host.authorizedKeys])
        #expect(badRoot.status != 0)
        #expect(!FileManager.default.fileExists(atPath: host.authorizedKeys))
        #expect(Access.role(root: host.root) == nil)
        #expect(Access.role(root: quoted) == nil)
    }

    @Test func setMasterNeedsAReplica() throws {
        let host = try Host()
        let run = try host.run("set-master", host.key("m"))
        #expect(run.status != 0)
        #expect(!FileManager.default.fileExists(atPath: host.authorizedKeys))
    }
}

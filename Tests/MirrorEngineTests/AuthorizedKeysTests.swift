import Foundation
import Testing
import TestSupport
@testable import MirrorEngine

@Suite struct AuthorizedKeysTests {
    private func key(_ dir: ScratchDirectory, _ name: String) throws -> PublicKey {
        let generated = try TestKeys.generate(.ed25519, in: dir.path, name: name)
        return try PublicKey(line: generated.publicKeyLine, source: name)
    }

    private func mode(_ path: String) throws -> Int {
        try ((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue) ?? -1
    }

    @Test func installCreatesPrivateFolderAndFile() throws {
        let dir = try ScratchDirectory(prefix: "cm-ak")
        let file = AuthorizedKeys(path: dir.file("home/.ssh/authorized_keys"))
        let master = try key(dir, "m")
        let replaced = try file.install(entry: AuthorizedKeys.entry(for: master, command: "/bin/false"))
        #expect(!replaced)
        #expect(try mode(dir.file("home/.ssh")) == 0o700)
        #expect(try mode(file.path) == 0o600)
        #expect(try file.entries() == ["restrict,command=\"/bin/false\" \(master.type) \(master.base64) \(AuthorizedKeys.marker)"])
    }

    @Test func repeatedInstallReplacesOnlyOurEntryAndKeepsOtherLines() throws {
        let dir = try ScratchDirectory(prefix: "cm-ak")
        let path = dir.file("authorized_keys")
        let before = "# admin keys\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJunk admin@laptop\n"
            + "from=\"10.0.0.0/8\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther backup cloudmin-mirror-master-not\n"
        try before.write(toFile: path, atomically: true, encoding: .utf8)
        let file = AuthorizedKeys(path: path)
        let first = try key(dir, "a"), second = try key(dir, "b")
        #expect(try !file.install(entry: AuthorizedKeys.entry(for: first, command: "/x serve one")))
        #expect(try file.install(entry: AuthorizedKeys.entry(for: second, command: "/x serve two")))
        #expect(try file.install(entry: AuthorizedKeys.entry(for: second, command: "/x serve two")))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(before))
        let ours = try file.entries()
        #expect(ours.count == 1)
        #expect(ours.first?.contains(second.base64) == true)
        #expect(!text.contains(first.base64))
    }

    @Test func duplicateEntriesCollapseIntoOne() throws {
        let dir = try ScratchDirectory(prefix: "cm-ak")
        let path = dir.file("authorized_keys")
        let old = try key(dir, "old"), new = try key(dir, "new")
        let oldEntry = AuthorizedKeys.entry(for: old, command: "/x")
        try "\(oldEntry)\nssh-ed25519 AAAA keep-me\n\(oldEntry)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try AuthorizedKeys(path: path).install(entry: AuthorizedKeys.entry(for: new, command: "/y"))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains(new.base64))
        #expect(lines[1] == "ssh-ed25519 AAAA keep-me")
    }

    @Test func symlinkedFileIsRefusedAndItsTargetUntouched() throws {
        let dir = try ScratchDirectory(prefix: "cm-ak")
        let target = dir.file("elsewhere")
        try "precious\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.file("authorized_keys"), withDestinationPath: target)
        let master = try key(dir, "m")
        #expect {
            try AuthorizedKeys(path: dir.file("authorized_keys")).install(entry: AuthorizedKeys.entry(for: master, command: "/x"))
        } throws: { ($0 as? AccessError)?.code == .authorizedKeys }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
    }

    @Test func forcedCommandRefusesQuotesAndControlCharacters() {
        for bad in ["/srv/a\"b", "/srv/a\nb", "/srv/a\tb"] {
            #expect {
                try AuthorizedKeys.forcedCommand(executable: "/usr/bin/cloudmin-mirror", root: bad, config: nil, fingerprint: "SHA256:x")
            } throws: { ($0 as? AccessError)?.code == .unsafePath }
        }
    }

    /// The forced command goes through /bin/sh as sshd runs it: every word must arrive intact.
    @Test func forcedCommandWordsSurviveTheShell() throws {
        let dir = try ScratchDirectory(prefix: "cm ak 'q' $x")
        let script = dir.file("print args")
        let out = dir.file("args")
        try "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '\(out.replacingOccurrences(of: "'", with: "'\\''"))'\n"
            .write(toFile: dir.file("source"), atomically: true, encoding: .utf8)
        // Written by a child process: a file this process had open for writing could leak into a
        // process another test spawns meanwhile and make exec fail with ETXTBSY.
        try runTool("/usr/bin/install", ["-m", "755", dir.file("source"), script])
        let root = dir.path + "/r oot's `x` $HOME;"
        let command = try AuthorizedKeys.forcedCommand(executable: script, root: root, config: "/etc/c m.conf",
                                                       fingerprint: "SHA256:ab+c/d")
        try runTool("/bin/sh", ["-c", command])
        let words = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(words == ["replica", "serve", "--root", root, "--config", "/etc/c m.conf", "--master-fingerprint", "SHA256:ab+c/d"])
    }

    @Test func classifiesWhatTheClientAskedFor() {
        #expect(ServeDispatch.classify(nil) == .other(""))
        #expect(ServeDispatch.classify("") == .other(""))
        #expect(ServeDispatch.classify("internal-sftp") == .sftp)
        #expect(ServeDispatch.classify("/usr/lib/openssh/sftp-server -l INFO") == .sftp)
        #expect(ServeDispatch.classify("cloudmin-mirror-rpc") == .replication)
        #expect(ServeDispatch.classify(" cloudmin-mirror-rpc\n") == .replication)
        #expect(ServeDispatch.classify("cloudmin-mirror-rpc; sh") == .other("cloudmin-mirror-rpc; sh"))
        #expect(ServeDispatch.classify("ls -l") == .other("ls -l"))
        #expect(ServeDispatch.classify("/bin/sftp-server-evil") == .other("/bin/sftp-server-evil"))
    }

    @Test func sftpAllowListHoldsOnlyRequestsThisSftpServerKnows() throws {
        let known = Set(try runTool(ServeDispatch.sftpServerPath, ["-Q", "requests"]).split(separator: "\n").map(String.init))
        #expect(Set(ServeDispatch.sftpAllowedRequests).isSubset(of: known))
        for write in ["write", "setstat", "fsetstat", "remove", "mkdir", "rmdir", "rename", "symlink", "posix-rename", "hardlink", "copy-data"] {
            #expect(!ServeDispatch.sftpAllowedRequests.contains(write))
        }
    }
}

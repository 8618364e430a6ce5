import Testing
@testable import MirrorEngine

@Suite struct ConfigTests {
    @Test func defaultTextParsesToDefaults() throws {
        let file = try ConfigFile(text: ConfigFile.defaultText, path: "d.conf", hostPath: "/nonexistent")
        #expect(file.config == MirrorConfig())
        #expect(file.config.trees == MirrorConfig.defaultTrees)
        #expect(file.config.intervalSeconds == 300)
    }

    @Test func fullFileParses() throws {
        let text = """
        # comment
        tree = /etc/webmin/server-manager
        tree = /srv/images/
        interval = 2m
        builtin_rules = no
        compression_level = 6
        state_dir = /var/lib/cm//state

        [replica dr1]
        host = 192.0.2.10
        port = 2222
        host_key = SHA256:abc
        [replica dr-2.site]
        host = dr2.example.net
        user = mirror
        identity = /root/.ssh/id_ed25519
        """
        let c = try ConfigFile(text: text, path: "c.conf", hostPath: "/x").config
        #expect(c.trees == ["/etc/webmin/server-manager", "/srv/images"])
        #expect(c.intervalSeconds == 120)
        #expect(c.builtinRules == false)
        #expect(c.compressionLevel == 6)
        #expect(c.stateDir == "/var/lib/cm/state")
        #expect(c.replicas.map(\.name) == ["dr1", "dr-2.site"])
        #expect(c.replicas[0] == ReplicaConfig(name: "dr1", host: "192.0.2.10", port: 2222, hostKey: "SHA256:abc"))
        #expect(c.replicas[1] == ReplicaConfig(name: "dr-2.site", host: "dr2.example.net", user: "mirror", identity: "/root/.ssh/id_ed25519"))
    }

    @Test(arguments: [
        ("nonsense line", ConfigError.Code.syntax, 2),
        ("colour = blue", .unknownKey, 2),
        ("interval = soon", .badValue, 2),
        ("interval = 5s", .badValue, 2),
        ("tree = relative/path", .badValue, 2),
        ("tree = /etc/../root", .badValue, 2),
        ("compression_level = 12", .badValue, 2),
        ("state_dir = /a\nstate_dir = /b", .duplicateKey, 3),
        ("[replica a]\nhost = h\n[replica a]\nhost = h", .duplicateReplica, 4),
        ("[replica a]\nport = 22", .missingHost, 2),
        ("[replica a]\nhost = h\nport = 70000", .badValue, 4),
        ("[replica a]\nhost = h\ntree = /x", .unknownKey, 4),
        ("[replica ../evil]\nhost = h", .badReplicaName, 2),
        ("[server a]", .syntax, 2),
        ("[replica a", .syntax, 2),
        ("[replica a]\nhost = h\nhost_key = md5:00", .badValue, 4),
    ])
    func badInputNamesTheLine(text: String, code: ConfigError.Code, line: Int) {
        #expect {
            _ = try ConfigFile(text: "# first line\n" + text, path: "bad.conf", hostPath: "/x")
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.code == code && e.line == line && e.file == "bad.conf"
        }
    }

    @Test func addAndRemoveReplicaKeepComments() throws {
        var file = try ConfigFile(text: "# keep me\ninterval = 1m\n", path: "c.conf", hostPath: "/x")
        try file.addReplica(ReplicaConfig(name: "dr1", host: "10.1.1.1", hostKey: "SHA256:k"))
        try file.addReplica(ReplicaConfig(name: "dr2", host: "10.1.1.2", port: 2200))
        #expect(file.config.replicas.map(\.name) == ["dr1", "dr2"])
        #expect(throws: ConfigError.self) { try file.addReplica(ReplicaConfig(name: "dr1", host: "h")) }
        try file.removeReplica(named: "dr1")
        #expect(file.config.replicas.map(\.name) == ["dr2"])
        #expect(file.config.replicas[0].port == 2200)
        #expect(file.text.hasPrefix("# keep me\ninterval = 1m\n"))
        #expect(file.config.intervalSeconds == 60)
        #expect(throws: ConfigError.self) { try file.removeReplica(named: "dr1") }
    }

    @Test func durations() {
        #expect(ConfigParser.parseDuration("300") == 300)
        #expect(ConfigParser.parseDuration("90s") == 90)
        #expect(ConfigParser.parseDuration("5m") == 300)
        #expect(ConfigParser.parseDuration("1h") == 3600)
        #expect(ConfigParser.parseDuration("m") == nil)
        #expect(ConfigParser.parseDuration("-5m") == nil)
    }
}

import TreeDiff

/// The configuration file on disk: its parsed form plus its text, so edits made by the tool
/// (adding or removing a replica) keep the sysadmin's comments and layout.
public struct ConfigFile: Sendable {
    /// The file's path as the user named it (for messages).
    public let path: String
    /// The file's path on this machine (under `--root`).
    public let hostPath: String
    public private(set) var text: String
    public private(set) var config: MirrorConfig

    /// Reads and parses a configuration file.
    /// - Parameters:
    ///   - hostPath: where to read it.
    ///   - displayPath: how messages name it; defaults to `hostPath`.
    /// - Throws: `ConfigError` naming the file and line.
    public static func load(hostPath: String, displayPath: String? = nil) throws(ConfigError) -> ConfigFile {
        let shown = displayPath ?? hostPath
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(hostPath, limit: 1 << 20) } catch {
            throw ConfigError(.unreadable, file: shown, detail: "\(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(.syntax, file: shown, detail: "bytes that are not UTF-8")
        }
        return try ConfigFile(text: text, path: shown, hostPath: hostPath)
    }

    /// Parses `text` as the file at `path`.
    public init(text: String, path: String, hostPath: String) throws(ConfigError) {
        self.path = path
        self.hostPath = hostPath
        self.text = text
        self.config = try ConfigParser.parse(text, file: path)
    }

    /// Writes the text back atomically.
    public func save() throws(ConfigError) {
        do { try AtomicFile.write(Array(text.utf8), to: hostPath, mode: [.ownerReadWrite, .groupRead]) } catch {
            throw ConfigError(.unwritable, file: path, detail: "\(error)")
        }
    }

    /// Appends a `[replica NAME]` section.
    /// - Throws: `ConfigError.duplicateReplica` when the name is taken, `.badReplicaName`.
    public mutating func addReplica(_ replica: ReplicaConfig) throws(ConfigError) {
        guard Self.isValidReplicaName(replica.name) else {
            throw ConfigError(.badReplicaName, file: path, detail: "`\(replica.name)`")
        }
        if config.replica(named: replica.name) != nil {
            throw ConfigError(.duplicateReplica, file: path, detail: "`\(replica.name)`")
        }
        var section = "\n[replica \(replica.name)]\nhost = \(replica.host)\nport = \(replica.port)\nuser = \(replica.user)\n"
        if let identity = replica.identity { section += "identity = \(identity)\n" }
        if let key = replica.hostKey { section += "host_key = \(key)\n" }
        var newText = text
        if !newText.isEmpty, !newText.hasSuffix("\n") { newText += "\n" }
        newText += section
        try self = ConfigFile(text: newText, path: path, hostPath: hostPath)
    }

    /// Removes the `[replica NAME]` section (its header up to the next section or the end).
    /// - Throws: `ConfigError.noSuchReplica`.
    public mutating func removeReplica(named name: String) throws(ConfigError) {
        guard config.replica(named: name) != nil else {
            throw ConfigError(.noSuchReplica, file: path, detail: "`\(name)`")
        }
        var kept: [Substring] = []
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("[") {
                let words = trimmed.dropFirst().dropLast().split(separator: " ")
                skipping = words.count == 2 && words[1] == name
            }
            if !skipping { kept.append(line) }
        }
        while kept.count > 1, kept[kept.count - 1].isEmpty, kept[kept.count - 2].isEmpty { kept.removeLast() }
        try self = ConfigFile(text: kept.joined(separator: "\n"), path: path, hostPath: hostPath)
    }

    static func isValidReplicaName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        } && name.first != "." && name.first != "-"
    }

    /// The documented default configuration, every setting shown with its default.
    public static let defaultText = """
    # cloudmin-mirror configuration.
    # Lines are `key = value`; `#` starts a comment. Paths are absolute paths on this host.
    # Every setting below shows its default: uncomment and change what you need.

    # Trees to mirror, one `tree =` line each (defaults: Cloudmin's config, its collected status,
    # and the image store). Setting any `tree` replaces the whole default list.
    #tree = /etc/webmin/server-manager
    #tree = /var/webmin/modules/server-manager/collected
    #tree = /var/cloudmin/images

    # Where Cloudmin keeps its records, collected status and locally stored images
    # (the last two are inferred defaults: check them on your master).
    #cloudmin_config_dir = /etc/webmin/server-manager
    #collected_dir = /var/webmin/modules/server-manager/collected
    #image_store = /var/cloudmin/images

    # Your own rsync-style filter rules (`- PATTERN`, `+ PATTERN`), applied after the built-in
    # Cloudmin exclusions (master's own status, guests hosted on the master, images not stored
    # on the master, *.lock, *.webmintmp.*, the licence file). `builtin_rules = no` drops those.
    #rules = /etc/cloudmin-mirror/rules
    #builtin_rules = yes

    # State: role, generations, manifests, caches, logs.
    #state_dir = /var/lib/cloudmin-mirror

    # Scheduled runs: every interval, or as soon as status collection finishes (writes to the
    # collected status settle, or the marker file is touched), whichever comes first.
    #interval = 5m
    #collection_marker = /var/webmin/modules/server-manager/collected/.done

    # The master's replication key (ed25519) and the pinned host keys of its replicas.
    #identity = /etc/cloudmin-mirror/id_ed25519
    #known_hosts = /etc/cloudmin-mirror/known_hosts

    # zlib level for data on the wire: 0 = none, 1 = fastest (default), 9 = smallest.
    #compression_level = 1

    # Prometheus text-format metrics, rewritten after each run.
    #metrics_file = /var/lib/cloudmin-mirror/metrics.prom

    # Replicas are added with `cloudmin-mirror master add-replica`, which writes sections like:
    # [replica dr1]
    # host = 192.0.2.10
    # port = 22
    # user = root
    # host_key = SHA256:...

    """
}

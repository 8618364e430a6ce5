/// Where one replica is and how to reach it.
public struct ReplicaConfig: Sendable, Hashable, Codable {
    /// The name the sysadmin gave it (`[replica NAME]`).
    public var name: String
    /// Host name or address.
    public var host: String
    public var port: Int = 22
    public var user: String = "root"
    /// Private key used for this replica; `nil` uses the global `identity`.
    public var identity: String?
    /// The replica's pinned host key fingerprint (`SHA256:...`), for reference; the pin itself
    /// lives in `known_hosts`.
    public var hostKey: String?

    public init(name: String, host: String, port: Int = 22, user: String = "root",
                identity: String? = nil, hostKey: String? = nil) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.identity = identity
        self.hostKey = hostKey
    }
}

/// The whole configuration: what to mirror, where state lives, and the replicas.
///
/// Every path is an absolute path on the host as Cloudmin sees it (`/etc/webmin/...`); the
/// global `--root` remaps them all, so tests and the demo run master and replicas on one machine.
public struct MirrorConfig: Sendable, Hashable {
    /// Trees to mirror (absolute paths).
    public var trees: [String] = MirrorConfig.defaultTrees
    /// Cloudmin's config directory (records `<id>.serv`, `this`, image records).
    public var cloudminConfigDir = "/etc/webmin/server-manager"
    /// Collected status, one file per system id (inferred default).
    public var collectedDir = "/var/webmin/modules/server-manager/collected"
    /// The image store on the master (inferred default).
    public var imageStore = "/var/cloudmin/images"
    /// The user's rsync-style filter rules, read when present.
    public var rulesFile = "/etc/cloudmin-mirror/rules"
    /// Whether the built-in Cloudmin exclusions apply (master status, hosted guests, remote images,
    /// lock and temp files, licence).
    public var builtinRules = true
    /// Role, generations, manifests, caches, logs.
    public var stateDir = "/var/lib/cloudmin-mirror"
    /// Seconds between scheduled runs.
    public var intervalSeconds = 300
    /// The master's private key for replication.
    public var identity = "/etc/cloudmin-mirror/id_ed25519"
    /// Pinned replica host keys, OpenSSH known_hosts format.
    public var knownHosts = "/etc/cloudmin-mirror/known_hosts"
    /// A file the status collection touches when it finishes; `nil` watches `collectedDir`.
    public var collectionMarker: String?
    /// Prometheus text-format metrics, rewritten after every run; `nil` for none.
    public var metricsFile: String?
    /// zlib level for what crosses the wire (0 = store, 1 = fastest ... 9).
    public var compressionLevel = 1
    /// The replicas, in file order.
    public var replicas: [ReplicaConfig] = []

    public static let defaultTrees = [
        "/etc/webmin/server-manager",
        "/var/webmin/modules/server-manager/collected",
        "/var/cloudmin/images",
    ]
    /// Where the configuration lives unless `--config` says otherwise.
    public static let defaultPath = "/etc/cloudmin-mirror/cloudmin-mirror.conf"

    public init() {}

    /// The replica with that name.
    public func replica(named name: String) -> ReplicaConfig? {
        replicas.first { $0.name == name }
    }
}

/// The systemd service unit that starts `cloudmin-mirror daemon` at boot.
public struct ServiceUnit: Sendable {
    /// Where the unit is installed, as an absolute path on the host.
    public static let installPath = "/etc/systemd/system/cloudmin-mirror.service"
    /// The cron line for hosts without systemd: one run every 5 minutes, waiting up to 4 minutes
    /// for a run in progress.
    public static let cronAlternative = "*/5 * * * * root cloudmin-mirror sync --wait 240"

    /// The absolute path of the `cloudmin-mirror` binary.
    public var binary: String
    /// The `--root` the daemon runs with ("/" leaves it out).
    public var root: String
    /// The `--config` the daemon runs with (nil leaves it out).
    public var config: String?
    /// How long systemd waits for the current run to finish after SIGTERM before it kills it.
    public var stopTimeoutSeconds: Int

    public init(binary: String, root: String = "/", config: String? = nil, stopTimeoutSeconds: Int = 300) {
        self.binary = binary
        self.root = root
        self.config = config
        self.stopTimeoutSeconds = stopTimeoutSeconds
    }

    /// The command line systemd runs, words quoted as systemd's ExecStart needs.
    public var execStart: String {
        ([binary, "daemon"] + globalOptions).map(Self.quote).joined(separator: " ")
    }

    /// `cronAlternative` with this binary's absolute path and options (cron's PATH is short).
    public var cronLine: String {
        "*/5 * * * * root " + ([binary, "sync"] + globalOptions + ["--wait", "240"]).joined(separator: " ")
    }

    private var globalOptions: [String] {
        var words: [String] = []
        if root != "/" { words += ["--root", root] }
        if let config { words += ["--config", config] }
        return words
    }

    /// The unit file's text.
    public var text: String {
        """
        # Written by `cloudmin-mirror install-service`.
        # Without systemd, use cron instead (/etc/cron.d/cloudmin-mirror); cron runs on the clock,
        # not right after the status collection:
        #   \(cronLine)
        [Unit]
        Description=cloudmin-mirror replication daemon
        After=network-online.target
        Wants=network-online.target

        [Service]
        Type=simple
        ExecStart=\(execStart)
        ExecReload=/bin/kill -HUP $MAINPID
        KillSignal=SIGTERM
        KillMode=mixed
        TimeoutStopSec=\(stopTimeoutSeconds)
        Restart=on-failure
        RestartSec=30
        # Mirror runs are background work: they yield CPU and disk to Cloudmin.
        Nice=10
        IOSchedulingClass=best-effort
        IOSchedulingPriority=7

        [Install]
        WantedBy=multi-user.target

        """
    }

    /// One ExecStart word: `%` doubled (systemd specifiers), `$` doubled (variable expansion),
    /// and double-quoted with `\` escapes when it holds a space, quote or backslash.
    static func quote(_ word: String) -> String {
        var escaped = word.replacingAll("%", with: "%%").replacingAll("$", with: "$$")
        guard escaped.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" || $0 == "\\" }) || escaped.isEmpty else {
            return escaped
        }
        escaped = escaped.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
        return "\"" + escaped + "\""
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

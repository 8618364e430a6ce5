/// Parses the human-edited configuration file.
///
/// The format is `key = value` lines (`#` starts a comment line), then one
/// `[replica NAME]` section per replica with its own keys. See `ConfigFile.defaultText`.
enum ConfigParser {
    static let globalKeys: Set<String> = [
        "tree", "cloudmin_config_dir", "collected_dir", "image_store", "rules", "builtin_rules",
        "state_dir", "interval", "identity", "known_hosts", "collection_marker", "metrics_file",
        "compression_level",
    ]
    static let replicaKeys: Set<String> = ["host", "port", "user", "identity", "host_key"]

    static func parse(_ text: String, file: String) throws(ConfigError) -> MirrorConfig {
        var config = MirrorConfig()
        var trees: [String] = []
        var seen: Set<String> = []
        var current: (replica: ReplicaConfig, line: Int, seen: Set<String>)?

        func finishReplica() throws(ConfigError) {
            guard let r = current else { return }
            if r.replica.host.isEmpty {
                throw ConfigError(.missingHost, file: file, line: r.line, detail: r.replica.name)
            }
            config.replicas.append(r.replica)
            current = nil
        }

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = index + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw ConfigError(.syntax, file: file, line: lineNo, detail: "`\(line)`")
                }
                let inner = line.dropFirst().dropLast().trimmingWhitespace()
                let words = inner.split(separator: " ", omittingEmptySubsequences: true)
                guard words.count == 2, words[0] == "replica" else {
                    throw ConfigError(.syntax, file: file, line: lineNo, detail: "`\(line)` (sections are `[replica NAME]`)")
                }
                let name = String(words[1])
                guard ConfigFile.isValidReplicaName(name) else {
                    throw ConfigError(.badReplicaName, file: file, line: lineNo, detail: "`\(name)`")
                }
                try finishReplica()
                if config.replicas.contains(where: { $0.name == name }) {
                    throw ConfigError(.duplicateReplica, file: file, line: lineNo, detail: "`\(name)`")
                }
                current = (ReplicaConfig(name: name, host: ""), lineNo, [])
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(.syntax, file: file, line: lineNo, detail: "`\(line)`")
            }
            let key = line[..<eq].trimmingWhitespace()
            let value = line[line.index(after: eq)...].trimmingWhitespace()
            func bad(_ why: String) -> ConfigError {
                ConfigError(.badValue, file: file, line: lineNo, detail: "\(key) = \(value): \(why)")
            }

            if var r = current {
                guard replicaKeys.contains(key) else {
                    throw ConfigError(.unknownKey, file: file, line: lineNo, detail: "`\(key)` in [replica \(r.replica.name)] (known: \(replicaKeys.sorted().joined(separator: ", ")))")
                }
                guard r.seen.insert(key).inserted else {
                    throw ConfigError(.duplicateKey, file: file, line: lineNo, detail: "`\(key)`")
                }
                switch key {
                case "host":
                    guard !value.isEmpty, !value.contains(where: { $0 == " " || $0 == "/" }) else { throw bad("expected a host name or address") }
                    r.replica.host = value
                case "port":
                    guard let p = Int(value), (1...65535).contains(p) else { throw bad("expected a port number 1-65535") }
                    r.replica.port = p
                case "user":
                    guard !value.isEmpty, !value.contains(" ") else { throw bad("expected a user name") }
                    r.replica.user = value
                case "identity":
                    r.replica.identity = try absolutePath(value, bad)
                case "host_key":
                    guard value.hasPrefix("SHA256:"), value.count > 7 else { throw bad("expected an OpenSSH fingerprint `SHA256:...`") }
                    r.replica.hostKey = value
                default: break
                }
                current = r
                continue
            }

            guard globalKeys.contains(key) else {
                throw ConfigError(.unknownKey, file: file, line: lineNo, detail: "`\(key)` (known: \(globalKeys.sorted().joined(separator: ", ")))")
            }
            if key != "tree" {
                guard seen.insert(key).inserted else {
                    throw ConfigError(.duplicateKey, file: file, line: lineNo, detail: "`\(key)`")
                }
            }
            switch key {
            case "tree": trees.append(try absolutePath(value, bad))
            case "cloudmin_config_dir": config.cloudminConfigDir = try absolutePath(value, bad)
            case "collected_dir": config.collectedDir = try absolutePath(value, bad)
            case "image_store": config.imageStore = try absolutePath(value, bad)
            case "rules": config.rulesFile = try absolutePath(value, bad)
            case "builtin_rules":
                switch value.lowercased() {
                case "yes", "on", "true", "1": config.builtinRules = true
                case "no", "off", "false", "0": config.builtinRules = false
                default: throw bad("expected yes or no")
                }
            case "state_dir": config.stateDir = try absolutePath(value, bad)
            case "interval":
                guard let s = parseDuration(value), s >= 10 else { throw bad("expected a duration of at least 10s, like 300, 90s, 5m or 1h") }
                config.intervalSeconds = s
            case "identity": config.identity = try absolutePath(value, bad)
            case "known_hosts": config.knownHosts = try absolutePath(value, bad)
            case "collection_marker": config.collectionMarker = try absolutePath(value, bad)
            case "metrics_file": config.metricsFile = try absolutePath(value, bad)
            case "compression_level":
                guard let l = Int(value), (0...9).contains(l) else { throw bad("expected 0 (none) to 9 (smallest)") }
                config.compressionLevel = l
            default: break
            }
        }
        try finishReplica()
        if !trees.isEmpty { config.trees = trees }
        return config
    }

    /// An absolute, normalised path with no `.`/`..` components.
    static func absolutePath(_ value: String, _ bad: (String) -> ConfigError) throws(ConfigError) -> String {
        guard value.hasPrefix("/") else { throw bad("expected an absolute path") }
        let parts = value.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }), !value.contains("\0") else {
            throw bad("`.` and `..` are not allowed in paths")
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `300`, `300s`, `5m`, `1h` → seconds.
    static func parseDuration(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let (digits, unit): (Substring, Int) = switch last {
        case "s": (text.dropLast(), 1)
        case "m": (text.dropLast(), 60)
        case "h": (text.dropLast(), 3600)
        default: (Substring(text), 1)
        }
        guard let n = Int(digits), n >= 0 else { return nil }
        return n.multipliedReportingOverflow(by: unit).overflow ? nil : n * unit
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

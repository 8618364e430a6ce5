/// Builds the built-in exclusions from a Cloudmin master's records: what replication must
/// never copy (see `CloudminExclusion.Kind`).
///
/// A record that cannot be used (symlink, binary, too large, unreadable, inconsistent) gives
/// a warning and makes no rule, so it is replicated as it is: a replica's job is to take over,
/// and a record missing there loses a managed system after failover, while a surplus one is
/// visible and harmless until then. Nothing is ever read through a symlink or outside the root.
public enum CloudminRules {
    /// Reads the master's records under `root` and returns its exclusion rules.
    /// - Parameters:
    ///   - root: the mirror root (the master's `/`, or a copy of it).
    ///   - layout: where Cloudmin keeps its files.
    /// - Returns: the rules, fixed ones first then per-system and per-image ones, and
    ///   warnings for records that were skipped.
    /// - Throws: `CloudminError` when the layout is invalid or the root cannot be opened.
    public static func load(root: String, layout: CloudminLayout = CloudminLayout()) throws(CloudminError)
        -> (rules: [CloudminExclusion], warnings: [CloudminWarning])
    {
        try layout.validate()
        let tree = RootedTree(root: root)
        do {
            _ = try tree.listDirectory("")
        } catch {
            throw CloudminError(code: .rootUnreadable, path: root, detail: "\(error)")
        }
        var rules: [CloudminExclusion] = [
            CloudminExclusion(.masterStatus, pattern: FilterPattern.anchoredLiteral(layout.collectedDirectory + "/" + layout.masterSystemID)),
            CloudminExclusion(.masterSettings, pattern: FilterPattern.anchoredLiteral(layout.masterSettingsFile)),
            CloudminExclusion(.licence, pattern: FilterPattern.anchoredLiteral(layout.licenseFile)),
            CloudminExclusion(.lockFile, pattern: "*.lock"),
            CloudminExclusion(.webminTempFile, pattern: "*.webmintmp.*"),
        ]
        var warnings: [CloudminWarning] = []
        rules += guestRules(tree, layout, &warnings)
        rules += imageRules(tree, layout, &warnings)
        return (rules, warnings)
    }

    /// Lists the regular files with a suffix in a directory; symlinks are skipped (they are
    /// replicated as links, never read).
    private static func records(in directory: String, suffix: String, _ tree: RootedTree,
                                _ warnings: inout [CloudminWarning]) -> [(stem: String, path: String)] {
        let entries: [RootedTree.Entry]
        do {
            guard let listed = try tree.listDirectory(directory) else { return [] }
            entries = listed
        } catch {
            warnings.append(CloudminWarning(code: .unreadableDirectory, path: directory, detail: "\(error)"))
            return []
        }
        return entries.compactMap { entry in
            guard entry.name.hasSuffix(suffix), entry.name.count > suffix.count else { return nil }
            guard entry.name.first != "." else { return nil }
            let path = directory + "/" + entry.name
            if entry.kind != .file {
                warnings.append(CloudminWarning(code: .unreadableRecord, path: path, detail: "not a regular file"))
                return nil
            }
            return (String(entry.name.dropLast(suffix.count)), path)
        }
    }

    private static func read(_ path: String, _ tree: RootedTree, _ warnings: inout [CloudminWarning]) -> WebminRecord? {
        do {
            return try WebminRecord.read(path, under: tree.root)
        } catch {
            warnings.append(CloudminWarning(code: .unreadableRecord, path: path, detail: error.description))
            return nil
        }
    }

    private static func guestRules(_ tree: RootedTree, _ layout: CloudminLayout,
                                   _ warnings: inout [CloudminWarning]) -> [CloudminExclusion] {
        var rules: [CloudminExclusion] = []
        for (id, path) in records(in: layout.configDirectory, suffix: layout.systemRecordSuffix, tree, &warnings) {
            guard id != layout.masterSystemID, let record = read(path, tree, &warnings) else { continue }
            if let recordID = record["id"], recordID != id {
                warnings.append(CloudminWarning(code: .idMismatch, path: path, detail: "id=\(recordID) differs from the file name"))
                continue
            }
            guard record[layout.parentKey] == layout.masterSystemID else { continue }
            let prefix = "/" + FilterPattern.escaped(layout.configDirectory + "/" + id)
            rules.append(CloudminExclusion(.guestOnMaster(systemID: id), pattern: prefix + ".*"))
            rules.append(CloudminExclusion(.guestOnMaster(systemID: id), pattern: FilterPattern.anchoredLiteral(layout.configDirectory + "/" + id) + "/"))
        }
        return rules
    }

    private static func imageRules(_ tree: RootedTree, _ layout: CloudminLayout,
                                   _ warnings: inout [CloudminWarning]) -> [CloudminExclusion] {
        var rules: [CloudminExclusion] = []
        for (stem, path) in records(in: layout.imageRecordsDirectory, suffix: layout.imageRecordSuffix, tree, &warnings) {
            guard let record = read(path, tree, &warnings) else { continue }
            guard let location = record[layout.imageLocationKey], !location.isEmpty else {
                warnings.append(CloudminWarning(code: .missingImageLocation, path: path, detail: ""))
                continue
            }
            if location == layout.localImageLocation { continue }
            let name = record["name"].map { "\(stem) (\($0))" } ?? stem
            rules.append(CloudminExclusion(.remoteImageRecord(record: name, location: location),
                                           pattern: FilterPattern.anchoredLiteral(path)))
            guard let file = record[layout.imageFileKey], !file.isEmpty else { continue }
            guard let payload = ImageStorePath.resolve(file, store: layout.imageStore) else {
                warnings.append(CloudminWarning(code: .payloadOutsideStore, path: path, detail: file))
                continue
            }
            rules.append(CloudminExclusion(.remoteImagePayload(record: name, location: location),
                                           pattern: FilterPattern.anchoredLiteral(payload)))
        }
        return rules
    }
}

/// Resolves an image record's payload path to a root-relative path inside the image store,
/// lexically: nothing is read, no symlink is followed, and `..` is refused outright.
enum ImageStorePath {
    /// - Parameters:
    ///   - file: relative to the store, or absolute (the master's `/` being the mirror root).
    ///   - store: the root-relative image store.
    /// - Returns: the root-relative payload path, or `nil` when it is not strictly inside the store.
    static func resolve(_ file: String, store: String) -> String? {
        let parts = file.split(separator: "/").filter { $0 != "." }
        guard !parts.contains("..") else { return nil }
        var inside = parts.map(String.init)
        if file.hasPrefix("/") {
            let storeParts = store.split(separator: "/").map(String.init)
            guard inside.count > storeParts.count, Array(inside.prefix(storeParts.count)) == storeParts else { return nil }
            inside.removeFirst(storeParts.count)
        }
        guard !inside.isEmpty else { return nil }
        return store + "/" + inside.joined(separator: "/")
    }
}

extension ChangePlan {
    /// Computes the operations that turn the replica's tree into the master's.
    ///
    /// Compares replicated fields only (ctime, inode, device and extents never cause an item).
    /// - Parameters:
    ///   - replica: the manifest the replica holds, or nil for an empty replica.
    ///   - master: the master's current manifest.
    /// - Returns: the ordered plan (see `ChangePlan` for the phases).
    public static func make(from replica: Manifest?, to master: Manifest) -> ChangePlan {
        let old = replica?.entries ?? []
        let new = master.entries

        // Pair entries by path with a merge walk over both sorted lists (indices, -1 = absent).
        var pairs: [(old: Int32, new: Int32)] = []
        pairs.reserveCapacity(max(old.count, new.count))
        var i = 0, j = 0
        while i < old.count || j < new.count {
            if j == new.count || (i < old.count && RelativePath.precedes(old[i].path, new[j].path)) {
                pairs.append((Int32(i), -1)); i += 1
            } else if i == old.count || RelativePath.precedes(new[j].path, old[i].path) {
                pairs.append((-1, Int32(j))); j += 1
            } else {
                pairs.append((Int32(i), Int32(j))); i += 1; j += 1
            }
        }
        func oldEntry(_ pair: (old: Int32, new: Int32)) -> ManifestEntry? { pair.old < 0 ? nil : old[Int(pair.old)] }
        func newEntry(_ pair: (old: Int32, new: Int32)) -> ManifestEntry? { pair.new < 0 ? nil : new[Int(pair.new)] }

        // Replica entries that stand in the master tree's way: a kind change, and everything
        // below a directory that becomes a file or symlink.
        var kindChanged = Set<String>()
        for pair in pairs where pair.old >= 0 && pair.new >= 0 && old[Int(pair.old)].kind != new[Int(pair.new)].kind {
            kindChanged.insert(old[Int(pair.old)].path)
        }
        func isBlocking(_ path: String) -> Bool {
            guard !kindChanged.isEmpty else { return false }
            var current: String? = path
            while let p = current {
                if kindChanged.contains(p) { return true }
                current = RelativePath.parent(of: p)
            }
            return false
        }

        // Replica files that keep their content until the new files are in place.
        var copySources: [ContentDigest: String] = [:]
        for pair in pairs where pair.old >= 0 {
            let o = old[Int(pair.old)]
            guard o.kind == .file, o.size > 0, let digest = o.digest, copySources[digest] == nil else { continue }
            let n = newEntry(pair)
            let survives = n == nil ? !isBlocking(o.path) : (n!.kind == .file && n!.digest == digest)
            if survives { copySources[digest] = o.path }
        }

        var early: [ChangeItem] = [], creates: [ChangeItem] = [], transfers: [ChangeItem] = []
        var metadata: [ChangeItem] = [], late: [ChangeItem] = []
        var directoryChanges: [String: (entry: ManifestEntry, previous: ManifestEntry?, changes: MetadataChanges)] = [:]
        var touched = Set<String>()
        func touch(_ path: String) {
            if let parent = RelativePath.parent(of: path) { touched.insert(parent) }
        }

        for pair in pairs {
            let oldAtPath = oldEntry(pair), newAtPath = newEntry(pair)
            if let o = oldAtPath, newAtPath == nil || newAtPath!.kind != o.kind {
                let item = ChangeItem(path: o.path, action: .delete(o.kind), entry: nil, previous: o)
                if isBlocking(o.path) { early.append(item) } else { late.append(item) }
                touch(o.path)
            }
            guard let n = newAtPath else { continue }
            if let o = oldAtPath, o.sameReplicatedFields(as: n) { continue }  // unchanged: the common case
            let o = oldAtPath.flatMap { $0.kind == n.kind ? $0 : nil }
            switch n.kind {
            case .directory:
                if let o {
                    let changes = MetadataChanges.between(o, n)
                    if !changes.isEmpty { directoryChanges[n.path] = (n, o, changes) }
                } else {
                    creates.append(ChangeItem(path: n.path, action: .createDirectory, entry: n, previous: nil))
                    directoryChanges[n.path] = (n, nil, [.mode, .owner, .group, .mtime])
                    touch(n.path)
                }
            case .file:
                if let o, o.digest == n.digest {
                    let changes = MetadataChanges.between(o, n)
                    if !changes.isEmpty { metadata.append(ChangeItem(path: n.path, action: .metadata(changes), entry: n, previous: o)) }
                } else if let o, let base = o.digest {
                    transfers.append(ChangeItem(path: n.path, action: .changedFile(baseDigest: base), entry: n, previous: o))
                    touch(n.path)
                } else {
                    let source = n.size > 0 ? n.digest.flatMap { copySources[$0] } : nil
                    transfers.append(ChangeItem(path: n.path, action: .newFile(localCopySource: source), entry: n, previous: nil))
                    touch(n.path)
                }
            case .symlink:
                if let o, o.symlinkTarget == n.symlinkTarget {
                    let changes = MetadataChanges.between(o, n)
                    if !changes.isEmpty { metadata.append(ChangeItem(path: n.path, action: .metadata(changes), entry: n, previous: o)) }
                } else {
                    transfers.append(ChangeItem(path: n.path, action: .symlink(replacing: o != nil), entry: n, previous: o))
                    touch(n.path)
                }
            }
        }

        // A directory whose entries change gets its mtime put back after them.
        for path in touched {
            guard let n = master.entry(at: path), n.kind == .directory else { continue }
            if var existing = directoryChanges[path] {
                existing.changes.insert(.mtime)
                directoryChanges[path] = existing
            } else {
                let o = replica?.entry(at: path)
                directoryChanges[path] = (n, o, MetadataChanges.between(o ?? n, n).union(.mtime))
            }
        }
        let directoryItems = directoryChanges.keys.sorted(by: RelativePath.precedes).reversed().map { path in
            let change = directoryChanges[path]!
            return ChangeItem(path: path, action: .directoryMetadata(change.changes), entry: change.entry, previous: change.previous)
        }

        return ChangePlan(items: early.reversed() + creates + transfers + metadata + late.reversed() + directoryItems)
    }
}

#if canImport(Glibc)
import TreeDiff
import Glibc
#endif
import Foundation

extension AuthorizedKeys {
    /// Removes the replication entry (the line marked `cloudmin-mirror-master`), keeping every
    /// other line byte for byte: after a promotion the old master's key must not even read.
    /// - Returns: whether an entry was removed (false when none, or the file does not exist).
    /// - Throws: `AccessError.authorizedKeys` when the file is a symlink or cannot be read or written.
    func removeReplicationEntries() throws(AccessError) -> Bool {
        var st = stat()
        if lstat(path, &st) != 0 { return false }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw AccessError(.authorizedKeys, subject: path, detail: "not a regular file (a symlink?); remove the cloudmin-mirror-master line by hand")
        }
        do {
            let text = String(decoding: try AtomicFile.read(path, limit: 1 << 20), as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            let kept = lines.filter { !Self.isOurEntry($0) }
            guard kept.count != lines.count else { return false }
            try AtomicFile.write(Array((kept.map { $0 + "\n" }.joined()).utf8), to: path, mode: [.ownerReadWrite])
            return true
        } catch {
            throw AccessError(.authorizedKeys, subject: path, detail: "cannot rewrite (\(error))")
        }
    }
}

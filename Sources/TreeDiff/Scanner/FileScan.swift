#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

extension ScanWalker {
    /// Records a regular file: reuses the previous digest when the quick-check fields match,
    /// otherwise hashes it until two `fstat`s around the hash agree.
    func scanFile(dirfd: CInt, name: UnsafePointer<CChar>, path: String, status: FileStatus) {
        if let old = previousEntry(path), old.kind == .file, old.digest != nil, old.ctimeNs != 0,
           old.size == status.size, old.mtimeNs == status.mtimeNs, old.ctimeNs == status.ctimeNs,
           old.inode == status.inode, old.device == status.device {
            record(path: path, status: status, digest: old.digest!, extents: old.extents)
            return
        }
        let fd: CInt
        switch Sys.openFile(dirfd, name) {
        case .failure(.noSuchFileOrDirectory): return
        case .failure(let errno):
            keepPrevious(path, .unreadable(errno))
            return
        case .success(let opened): fd = opened
        }
        defer { Sys.closeQuietly(fd) }
        for _ in 0..<max(scanner.maxAttempts, 1) {
            guard case .success(let before) = Sys.fstatus(fd), before.kind == .regular else { break }
            let age = Sys.realtimeNs() - before.ctimeNs
            if age < scanner.settleNanoseconds {
                // Written moments ago: a write in the same clock tick would not show in the
                // timestamps, so wait until the file has been quiet for a whole window.
                Sys.sleep(nanoseconds: scanner.settleNanoseconds - age)
                continue
            }
            let hashed: FileDigestResult
            do {
                hashed = try FileDigester.digest(fd: fd, size: before.size, allocatedBytes: before.blocks * 512, buffer: buffer)
            } catch {
                if case .readFailed(let errno) = error.code {
                    keepPrevious(path, .unreadable(errno))
                    return
                }
                continue  // short read: truncated while reading
            }
            stats.filesHashed += 1
            stats.bytesHashed += hashed.bytesRead
            scanner.afterHashHook?(path)
            guard case .success(let after) = Sys.fstatus(fd), after.sameContentStamp(as: before) else { continue }
            record(path: path, status: before, digest: hashed.digest, extents: hashed.extents)
            return
        }
        keepPrevious(path, .changedDuringRead)
    }

    private func record(path: String, status: FileStatus, digest: ContentDigest, extents: [DataExtent]) {
        entries.append(ManifestEntry(
            path: path, kind: .file, size: status.size, mode: status.mode, uid: status.uid, gid: status.gid,
            mtimeNs: status.mtimeNs, extents: extents, digest: digest,
            ctimeNs: status.ctimeNs, inode: status.inode, device: status.device))
        stats.files += 1
        stats.bytes += status.size
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TreeDiff

/// A minimal local applier for plan tests: carries out each item on `replica`, taking new file
/// data from `master` (standing in for the transfer) and local copies from the replica itself.
struct PlanApplier {
    let replica: TestTree
    let master: TestTree

    func apply(_ plan: ChangePlan) throws {
        for item in plan.items {
            let target = replica.absolute(item.path)
            switch item.action {
            case .delete(let kind):
                let status = kind == .directory ? rmdir(target) : unlink(target)
                try #require(status == 0, "deleting \(item.path): errno \(errno)")
            case .createDirectory:
                try #require(mkdir(target, 0o700) == 0, "mkdir \(item.path): errno \(errno)")
            case .newFile(let source):
                let data = try source.map { try replica.read($0) } ?? master.read(item.path)
                try replace(item.path, with: data)
                try setMetadata(item)
            case .changedFile(let base):
                var hasher = ContentHasher()
                try replica.read(item.path).withUnsafeBytes { hasher.update($0) }
                try #require(hasher.finalize() == base, "delta base of \(item.path) is not what the replica holds")
                try replace(item.path, with: try master.read(item.path))
                try setMetadata(item)
            case .symlink(let replacing):
                if replacing { try #require(unlink(target) == 0) }
                try #require(symlink(item.entry!.symlinkTarget!, target) == 0)
                try setMetadata(item)
            case .metadata, .directoryMetadata:
                try setMetadata(item)
            }
        }
    }

    /// Writes a temporary file beside the target and renames it into place.
    private func replace(_ path: String, with data: [UInt8]) throws {
        let temporary = path + ".part"
        try replica.write(temporary, data)
        try #require(rename(replica.absolute(temporary), replica.absolute(path)) == 0)
    }

    private func setMetadata(_ item: ChangeItem) throws {
        let entry = try #require(item.entry)
        let path = replica.absolute(item.path)
        if entry.kind != .symlink { try #require(chmod(path, mode_t(entry.mode)) == 0) }
        if geteuid() == 0 { try #require(lchown(path, entry.uid, entry.gid) == 0) }
        let mtime = entry.mtime
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2),  // UTIME_OMIT for atime
                     timespec(tv_sec: Int(mtime.seconds), tv_nsec: Int(mtime.nanoseconds))]
        try #require(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0)
    }
}

extension TestTree {
    /// Sets every scanned entry's mtime to `ns`, children first.
    func setAllMtimes(_ ns: Int64, trees: [String] = ["data"]) throws {
        for entry in try scan(trees).manifest.entries.reversed() { setMtime(entry.path, ns: ns) }
    }
}

import Foundation
import TreeDiff

/// The human form of a scan, in the spirit of `rsync --list-only`: one line per entry, then
/// what was excluded and by which rule, then a summary line. Paths are shown as Cloudmin sees
/// them (absolute, `/etc/webmin/...`), whatever `--root` is.
enum ManifestListing {
    /// The lines for a scan result.
    static func lines(_ result: ScanResult, summary: ScanSummary) -> [String] {
        let entries = result.manifest.entries
        let width = max(entries.map { String($0.size).count }.max() ?? 1, 1)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy/MM/dd HH:mm:ss"
        var lines = entries.map { entry in
            let size = String(entry.size)
            let date = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(entry.mtime.seconds)))
            var line = "\(modeString(entry)) \(String(repeating: " ", count: width - size.count))\(size) \(date) /\(entry.path)"
            if entry.kind == .directory { line += "/" }
            if let target = entry.symlinkTarget { line += " -> \(target)" }
            if entry.kind == .file, !entry.extents.isEmpty {
                let count = entry.extents == [DataExtent.allHole] ? 0 : entry.extents.count
                line += "  [sparse: \(ScanSummary.dataBytes(entry)) data bytes in \(count) extent\(count == 1 ? "" : "s")]"
            }
            return line
        }
        if !result.excluded.isEmpty {
            lines.append("")
            lines.append("excluded:")
            for exclusion in result.excluded {
                let path = "/" + exclusion.path + (exclusion.isDirectory ? "/" : "")
                lines.append("  \(path)  \(exclusion.decision.rule ?? "(no rule)")")
            }
        }
        lines.append("")
        lines.append(summaryLine(summary, digest: result.manifest.treeDigest))
        return lines
    }

    /// `42 files, 7 dirs, 1 symlink, 3.0 GiB (3221225472 bytes), 12.5 MiB data, 9 excluded, tree digest ...`.
    static func summaryLine(_ s: ScanSummary, digest: ContentDigest) -> String {
        "\(s.files) file\(s.files == 1 ? "" : "s"), \(s.directories) dir\(s.directories == 1 ? "" : "s"), "
            + "\(s.symlinks) symlink\(s.symlinks == 1 ? "" : "s"), "
            + "\(byteCount(s.bytes)) (\(s.bytes) bytes), \(byteCount(s.dataBytes)) data (\(s.dataBytes) bytes), "
            + "\(s.excluded) excluded, tree digest \(digest)"
    }

    /// `ls -l` mode string: kind, then rwx triplets with setuid, setgid and sticky bits.
    static func modeString(_ entry: ManifestEntry) -> String {
        let kind: Character = switch entry.kind {
        case .file: "-"
        case .directory: "d"
        case .symlink: "l"
        }
        let m = entry.mode
        func triplet(_ shift: UInt32, special: UInt32, set: Character, unset: Character) -> String {
            let r: Character = m & (4 << shift) != 0 ? "r" : "-"
            let w: Character = m & (2 << shift) != 0 ? "w" : "-"
            let x = m & (1 << shift) != 0
            let s = m & special != 0
            let xc: Character = s ? (x ? set : unset) : (x ? "x" : "-")
            return String([r, w, xc])
        }
        return String(kind) + triplet(6, special: 0o4000, set: "s", unset: "S")
            + triplet(3, special: 0o2000, set: "s", unset: "S") + triplet(0, special: 0o1000, set: "t", unset: "T")
    }

    /// A size in binary units for people: `512 B`, `3.0 KiB`, `1.5 GiB`.
    static func byteCount(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}

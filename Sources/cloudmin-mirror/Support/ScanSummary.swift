import TreeDiff

/// Counts of a scan beyond what `ScanStats` holds: data bytes of sparse files and exclusions.
struct ScanSummary: Encodable {
    var files = 0
    var directories = 0
    var symlinks = 0
    /// Apparent size of all files.
    var bytes: Int64 = 0
    /// Bytes of actual data (holes of sparse files left out): what a first copy must send.
    var dataBytes: Int64 = 0
    var sparseFiles = 0
    var excluded = 0
    /// Files read and hashed in this scan.
    var filesHashed = 0
    var bytesHashed: Int64 = 0

    init(_ result: ScanResult) {
        files = result.stats.files
        directories = result.stats.directories
        symlinks = result.stats.symlinks
        bytes = result.stats.bytes
        filesHashed = result.stats.filesHashed
        bytesHashed = result.stats.bytesHashed
        excluded = result.excluded.count
        for entry in result.manifest.entries where entry.kind == .file {
            dataBytes += Self.dataBytes(entry)
            if !entry.extents.isEmpty { sparseFiles += 1 }
        }
    }

    /// The bytes of data a file holds: its size when dense, the sum of its extents when sparse.
    static func dataBytes(_ entry: ManifestEntry) -> Int64 {
        if entry.extents.isEmpty { return entry.size }
        return entry.extents.reduce(0) { $0 + $1.length }
    }
}

import Foundation

/// Where one replica's transfer stands: sent so far against what the plan needs.
///
/// Bytes are data bytes of the master's files (their allocated size, whether they go whole or
/// as a delta), not bytes on the wire, so the total is known before anything is sent.
public struct TransferProgress: Sendable, Equatable {
    /// The replica being brought up to date.
    public var replica: String
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64
    /// Seconds since the transfer began.
    public var elapsedSeconds: Double
    /// True on the last report of a transfer (every file sent).
    public var finished: Bool

    public init(replica: String, filesDone: Int, filesTotal: Int, bytesDone: Int64, bytesTotal: Int64,
                elapsedSeconds: Double, finished: Bool = false) {
        self.replica = replica
        self.filesDone = filesDone
        self.filesTotal = filesTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.elapsedSeconds = elapsedSeconds
        self.finished = finished
    }

    /// Average bytes per second so far, or nil before there is anything to average.
    public var bytesPerSecond: Double? {
        guard elapsedSeconds > 0, bytesDone > 0 else { return nil }
        return Double(bytesDone) / elapsedSeconds
    }

    /// Whole seconds left at the average rate so far (rounded up), 0 when done, nil when unknown.
    public var etaSeconds: Int? {
        if bytesDone >= bytesTotal { return 0 }
        guard let rate = bytesPerSecond else { return nil }
        let left = Double(bytesTotal - bytesDone) / rate
        guard left.isFinite, left < Double(Int32.max) else { return nil }
        return Int(left.rounded(.up))
    }
}

/// Counts one replica's transfer and calls the progress hook: after each file, and within a
/// file at most every `interval` seconds. Confined to the thread running the replica's sync.
final class ProgressTracker {
    private let hook: (@Sendable (TransferProgress) -> Void)?
    private let interval: Double
    private let start = Date()
    private var lastReport = Date.distantPast
    private var state: TransferProgress
    /// bytesDone when the current file began, and that file's share of the total.
    private var fileBase: Int64 = 0
    private var fileBytes: Int64 = 0

    init(replica: String, filesTotal: Int, bytesTotal: Int64, interval: Double = 0.1,
         hook: (@Sendable (TransferProgress) -> Void)?) {
        self.hook = hook
        self.interval = interval
        state = TransferProgress(replica: replica, filesDone: 0, filesTotal: filesTotal, bytesDone: 0,
                                 bytesTotal: bytesTotal, elapsedSeconds: 0, finished: filesTotal == 0)
    }

    /// Reports the starting point (nothing sent yet).
    func begin() { report() }

    /// A file of `bytes` (its share of the total) starts.
    func beginFile(bytes: Int64) {
        fileBase = state.bytesDone
        fileBytes = bytes
    }

    /// `count` more bytes of the current file were read; never counts past the file's share.
    func advance(_ count: Int64) {
        guard hook != nil else { return }
        state.bytesDone = min(state.bytesDone + count, fileBase + fileBytes)
        if Date().timeIntervalSince(lastReport) >= interval { report() }
    }

    /// The current file is sent: its whole share counts, and a report goes out.
    func endFile() {
        state.bytesDone = fileBase + fileBytes
        state.filesDone += 1
        state.finished = state.filesDone >= state.filesTotal
        report()
    }

    private func report() {
        guard let hook else { return }
        lastReport = Date()
        state.elapsedSeconds = lastReport.timeIntervalSince(start)
        hook(state)
    }
}

/// Text forms of progress figures, as the command-line tool prints them.
public enum ProgressFormat {
    /// Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `3.4 GiB`.
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(max(n, 0))
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// A rate such as `85.3 MiB/s`, or `-- B/s` when unknown.
    public static func rate(_ bytesPerSecond: Double?) -> String {
        guard let r = bytesPerSecond, r.isFinite, r >= 0 else { return "-- B/s" }
        return bytes(Int64(r)) + "/s"
    }

    /// Seconds as `m:ss`, or `h:mm:ss` from an hour up; `--:--` when unknown.
    public static func duration(_ seconds: Int?) -> String {
        guard let s = seconds, s >= 0 else { return "--:--" }
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// One status line: `dr1  1234/5000 files  1.2 GiB/3.4 GiB  85.3 MiB/s  ETA 0:27`.
    public static func line(_ p: TransferProgress) -> String {
        "\(p.replica)  \(p.filesDone)/\(p.filesTotal) files  \(bytes(p.bytesDone))/\(bytes(p.bytesTotal))  "
            + "\(rate(p.bytesPerSecond))  ETA \(duration(p.etaSeconds))"
    }
}

import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MirrorEngine

/// `--no-progress` and `--progress-interval`, shared by the commands that send data.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "Show no transfer progress on stderr.") var noProgress = false
    @Option(help: ArgumentHelp("When stderr is not a terminal, print a progress line this often.", valueName: "seconds"))
    var progressInterval: Double = 10

    func validate() throws {
        guard progressInterval > 0, progressInterval.isFinite else { throw ValidationError("--progress-interval must be a positive number of seconds") }
    }

    /// Installs a renderer on `options` unless turned off; returns it (for its `log`), or nil.
    func install(on options: inout RunOptions) -> ProgressRenderer? {
        guard !noProgress else { return nil }
        let renderer = ProgressRenderer(terminal: isatty(2) == 1, interval: progressInterval)
        options.progress = { renderer.update($0) }
        return renderer
    }
}

extension ProgressRenderer {
    /// The run's log sink: through `renderer` when there is one, else straight to stderr.
    static func log(through renderer: ProgressRenderer?) -> (String) -> Void {
        { line in
            if let renderer { renderer.log(line) } else { Output.standardError(line) }
        }
    }
}

/// Shows transfer progress on stderr: on a terminal one line redrawn in place (ended with a
/// newline when the transfer finishes); otherwise a plain line every `interval` seconds and a
/// final one.
final class ProgressRenderer: @unchecked Sendable {
    // @unchecked: all mutable state is read and written only under `lock`.
    private let lock = NSLock()
    private let terminal: Bool
    private let interval: Double
    private var replica: String?
    private var lastPrinted = Date()
    /// A progress line is on screen without its newline (terminal only).
    private var lineOpen = false

    init(terminal: Bool, interval: Double) {
        self.terminal = terminal
        self.interval = interval
    }

    /// Takes one report from the engine.
    func update(_ p: TransferProgress) {
        lock.lock()
        defer { lock.unlock() }
        guard p.filesTotal > 0 else { return }
        if p.replica != replica {
            if lineOpen { write("\n") }
            lineOpen = false
            replica = p.replica
            lastPrinted = Date()
        }
        let since = Date().timeIntervalSince(lastPrinted)
        if terminal {
            // Redrawn at most ten times a second (a run of small files reports after each one).
            guard p.finished || !lineOpen || since >= 0.1 else { return }
            write("\r" + ProgressFormat.line(p) + "\u{1B}[K" + (p.finished ? "\n" : ""))
            lineOpen = !p.finished
            lastPrinted = Date()
        } else if p.finished || since >= interval {
            write(ProgressFormat.line(p) + "\n")
            lastPrinted = Date()
        }
    }

    /// Writes a log line on stderr without tearing the progress line.
    func log(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        if lineOpen { write("\r\u{1B}[K") }
        lineOpen = false
        write(line + "\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGTERM/SIGINT and SIGHUP into daemon requests, through dispatch signal sources (the
/// handlers run on a queue, not in signal context).
///
/// - SIGTERM or SIGINT: stop once the current run has finished (a run is bounded by its own
///   timeouts). A second one while a run is still going abandons it: `abandon` is called (the
///   process exits; the replica keeps what it staged for the next run, and the kernel drops the
///   run lock).
/// - SIGHUP: reread the configuration before the next run.
public final class DaemonSignals {
    private let sources: [any DispatchSourceSignal]

    /// Installs the handlers; they stay until this object is released.
    /// - Parameters:
    ///   - control: receives the stop and reload requests.
    ///   - onSignal: told of each signal (for logging), on the handler queue.
    ///   - abandon: called on a second stop signal during a run; should not return.
    public init(control: DaemonControl, onSignal: @escaping @Sendable (Int32) -> Void = { _ in },
                abandon: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "cloudmin-mirror.signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)  // the dispatch source sees it; the default action must not run
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                onSignal(sig)
                if sig == SIGHUP {
                    control.requestReload()
                } else if control.stopRequested, control.runInProgress {
                    abandon()
                } else {
                    control.requestStop()
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    deinit {
        for source in sources { source.cancel() }
    }
}

import Foundation

/// Requests to a running daemon from other threads (signal handlers, tests): stop, reload.
/// The daemon sleeps between ticks on this object, so a request wakes it at once.
public final class DaemonControl: @unchecked Sendable {
    // @unchecked Sendable: every stored property is read and written only while `condition`
    // is locked.
    private let condition = NSCondition()
    private var stop = false
    private var reload = false
    private var running = false

    public init() {}

    /// Asks the daemon to exit once the current run (if any) has finished.
    public func requestStop() {
        condition.withLock { stop = true; condition.broadcast() }
    }

    /// Asks the daemon to reread its configuration before the next run.
    public func requestReload() {
        condition.withLock { reload = true; condition.broadcast() }
    }

    /// Whether a stop was requested.
    public var stopRequested: Bool { condition.withLock { stop } }

    /// Whether a mirror run is in progress now.
    public var runInProgress: Bool { condition.withLock { running } }

    /// Returns true once per reload request.
    func takeReload() -> Bool {
        condition.withLock {
            defer { reload = false }
            return reload
        }
    }

    func setRunning(_ value: Bool) { condition.withLock { running = value } }

    /// Sleeps up to `seconds`, waking early on a stop or reload request.
    func sleep(seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.withLock {
            while !stop, !reload, condition.wait(until: deadline) {}
        }
    }
}

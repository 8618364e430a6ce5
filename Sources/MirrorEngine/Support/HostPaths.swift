/// Maps the absolute paths Cloudmin and the configuration speak of onto this machine, under the
/// global `--root` (default `/`), so master and replicas can share one machine in tests and the demo.
public struct HostPaths: Sendable, Hashable {
    /// The root directory, absolute, without a trailing `/` (empty string for `/`).
    public let root: String

    /// - Parameter root: an absolute directory; `/` for the real host.
    public init(root: String) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r == "/" ? "" : r
    }

    /// The path on this machine of an absolute path as configured (`/etc/x` → `ROOT/etc/x`).
    public func host(_ absolute: String) -> String {
        root + (absolute.hasPrefix("/") ? absolute : "/" + absolute)
    }

    /// The root-relative form used by manifests and filter rules (`/etc/x` → `etc/x`).
    public static func relative(_ absolute: String) -> String {
        String(absolute.drop { $0 == "/" })
    }

    /// The root as a directory path (`/` when unset).
    public var rootDirectory: String { root.isEmpty ? "/" : root }
}

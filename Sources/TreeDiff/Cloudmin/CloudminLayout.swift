/// Where a Cloudmin master keeps its state, as paths relative to the mirror root, and the
/// record keys the built-in rules read. Paths marked (inferred) are not documented by
/// Cloudmin: change them when a master lays its files out differently.
public struct CloudminLayout: Sendable, Hashable {
    /// Module configuration and one record per managed system.
    public var configDirectory = "etc/webmin/server-manager"
    /// Collected status, one file per system id, `0` being the master (inferred).
    public var collectedDirectory = "var/webmin/modules/server-manager/collected"
    /// Image payloads stored on the master (inferred).
    public var imageStore = "var/cloudmin/images"
    /// The master's own settings (`kvm_zone=`, ...).
    public var masterSettingsFile = "etc/webmin/server-manager/this"
    /// The licence, bound to the master.
    public var licenseFile = "etc/server-manager-license"
    /// One `<n>.image` record per system image (inferred).
    public var imageRecordsDirectory = "etc/webmin/server-manager/images"

    /// The name ending of system records in `configDirectory` (inferred).
    public var systemRecordSuffix = ".serv"
    /// The name ending of image records in `imageRecordsDirectory` (inferred).
    public var imageRecordSuffix = ".image"
    /// The system record key naming the host a system runs on (inferred).
    public var parentKey = "parent"
    /// The master's own system id.
    public var masterSystemID = "0"
    /// The image record key saying where the image is stored (inferred).
    public var imageLocationKey = "location"
    /// The `imageLocationKey` value for images stored on the master (inferred).
    public var localImageLocation = "local"
    /// The image record key holding the payload path, relative to `imageStore` or absolute
    /// inside it (inferred).
    public var imageFileKey = "file"

    /// The default layout.
    public init() {}

    /// The trees a mirror replicates by default: config, collected status, image store.
    public var defaultTrees: [String] { [configDirectory, collectedDirectory, imageStore] }

    /// Checks that every path is a plain relative path inside the root.
    /// - Throws: `CloudminError` `.invalidLayout` naming the setting.
    public func validate() throws(CloudminError) {
        let paths = [("config directory", configDirectory), ("collected directory", collectedDirectory),
                     ("image store", imageStore), ("master settings file", masterSettingsFile),
                     ("licence file", licenseFile), ("image records directory", imageRecordsDirectory)]
        for (name, path) in paths {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            if path.isEmpty || path.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                throw CloudminError(code: .invalidLayout, path: path, detail: name)
            }
        }
        let names = [("system record suffix", systemRecordSuffix), ("image record suffix", imageRecordSuffix),
                     ("master system id", masterSystemID)]
        for (name, value) in names where value.isEmpty || value.contains("/") {
            throw CloudminError(code: .invalidLayout, path: value, detail: name)
        }
    }
}

/// The built-in Cloudmin rules could not be built at all.
public struct CloudminError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A layout path is absolute, empty, or holds `.` / `..`.
        case invalidLayout
        /// The mirror root cannot be opened.
        case rootUnreadable
    }

    public let code: Code
    public let path: String
    public let detail: String

    public var description: String {
        switch code {
        case .invalidLayout:
            return "invalid Cloudmin layout: the \(detail) \"\(path)\" must be a relative path inside the mirror root, without . or .."
        case .rootUnreadable:
            return "\(path): cannot open the mirror root (\(detail)); check --root"
        }
    }
}

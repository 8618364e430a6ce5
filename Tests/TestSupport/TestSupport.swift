import Foundation

/// Helpers shared by the test suites.
public enum TestSupport {
    /// The package root (the folder holding Package.swift), found from this source file.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()
}

// The loopback sshd the tests start lives in the LoopbackSSHD library (the demo uses it too).
@_exported import LoopbackSSHD

import Foundation

/// Runs the built `cloudmin-mirror` executable, as a sysadmin would, and captures what it says.
public enum CLIRunner {
    /// What one run of the tool did.
    public struct Result: Sendable, CustomStringConvertible {
        /// The exit status (or the signal number when `uncaughtSignal`).
        public let status: Int32
        public let uncaughtSignal: Bool
        public let stdout: String
        public let stderr: String

        /// stdout parsed as a JSON object.
        /// - Throws: `CLIError.notJSON` when it is not one.
        public func jsonObject() throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw CLIError(message: "stdout is not a JSON object: \(stdout.prefix(500))")
            }
            return object
        }

        public var description: String {
            "exit \(status)\(uncaughtSignal ? " (signal)" : "")\n--- stdout\n\(stdout.prefix(4000))\n--- stderr\n\(stderr.prefix(4000))"
        }
    }

    /// The tool could not be found or started.
    public struct CLIError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The executable: `$CLOUDMIN_MIRROR_BINARY`, else next to the test bundle, else
    /// `.build/debug/cloudmin-mirror` in the package.
    /// - Throws: `CLIError` saying how to build it when none exists.
    public static func binary() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["CLOUDMIN_MIRROR_BINARY"] {
            candidates.append(URL(fileURLWithPath: path))
        }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // The runner may sit inside a bundle (`X.xctest/...`): look up to the build directory.
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("cloudmin-mirror"))
            directory.deleteLastPathComponent()
        }
        candidates.append(TestSupport.packageRoot.appendingPathComponent(".build/debug/cloudmin-mirror"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        throw CLIError(message: "cloudmin-mirror executable not found (looked at \(candidates.map(\.path).joined(separator: ", "))); run `swift build --build-tests` first")
    }

    /// Runs the tool with arguments and waits for it.
    /// - Parameters:
    ///   - arguments: the command line after the program name.
    ///   - environment: extra environment variables.
    /// - Throws: `CLIError` when the binary is missing, or the error starting the process.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Output goes to files, not pipes: a large listing cannot block the child.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus, uncaughtSignal: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

import Foundation

/// Runs `fixtures/generate` to lay out Cloudmin-like master trees for tests.
public enum Fixtures {
    /// A generator run that failed.
    public struct GeneratorError: Error, CustomStringConvertible {
        public let arguments: [String]
        public let status: Int32
        public let output: String
        public var description: String {
            "fixtures/generate \(arguments.joined(separator: " ")) exited with \(status): \(output)"
        }
    }

    /// The generator script.
    public static var generator: URL {
        TestSupport.packageRoot.appendingPathComponent("fixtures/generate")
    }

    /// Materializes the committed small fixture (`fixtures/master`) into `root`, with sparse
    /// images, Cloudmin's file modes and the symlink.
    /// - Returns: the generator's summary line.
    @discardableResult
    public static func materializeSmall(into root: URL) throws -> String {
        try run(["small", root.path])
    }

    /// Applies one 5-minute Cloudmin cycle to the tree at `root` (see `fixtures/generate churn`).
    @discardableResult
    public static func churn(_ root: URL, seed: Int = 1) throws -> String {
        try run(["churn", root.path, "--seed", String(seed)])
    }

    /// Makes a benchmark workload at `root`.
    @discardableResult
    public static func materializeLarge(into root: URL, systems: Int, imageGiB: Int, images: Int = 4, seed: Int = 1) throws -> String {
        try run(["large", root.path, "--systems", String(systems), "--image-gib", String(imageGiB),
                 "--images", String(images), "--seed", String(seed)])
    }

    /// Runs the generator with arguments, returning its output; throws when it fails.
    public static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw GeneratorError(arguments: arguments, status: process.terminationStatus, output: output)
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

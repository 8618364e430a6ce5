import Foundation
import LoopbackSSHD

/// Where the lab finds the `cloudmin-mirror` executable and the fixture generator.
enum Tools {
    /// The package root (holding Package.swift), found from this source file: the lab is a
    /// development tool that runs from a checkout.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// `$CLOUDMIN_MIRROR_BINARY`, else next to the running executable (or up to 4 folders
    /// above it, for a test bundle), else `.build/debug` or `.build/release` of the package.
    /// - Throws: `FaultLabError.binaryNotFound`.
    static func binary() throws -> String {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["CLOUDMIN_MIRROR_BINARY"] { candidates.append(path) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("cloudmin-mirror").path)
            dir.deleteLastPathComponent()
        }
        candidates += [packageRoot + "/.build/debug/cloudmin-mirror", packageRoot + "/.build/release/cloudmin-mirror"]
        for c in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.isExecutableFile(atPath: c),
               FileManager.default.fileExists(atPath: c, isDirectory: &isDirectory), !isDirectory.boolValue {
                return c
            }
        }
        throw FaultLabError(.binaryNotFound, context: "cloudmin-mirror executable",
                            detail: "not found at \(candidates.joined(separator: ", "))")
    }

    /// Runs `fixtures/generate` with arguments.
    /// - Throws: `FaultLabError.setupFailed` with the generator's output.
    @discardableResult
    static func generate(_ arguments: [String]) throws -> String {
        do {
            return try runTool("/usr/bin/python3", [packageRoot + "/fixtures/generate"] + arguments)
        } catch {
            throw FaultLabError(.setupFailed, context: "fixtures/generate \(arguments.joined(separator: " "))", detail: "\(error)")
        }
    }
}

/// One run of the `cloudmin-mirror` executable.
struct ToolRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A `cloudmin-mirror` child process whose output goes to files.
final class ToolProcess {
    let process: ChildProcess
    let out: String
    let err: String

    init(_ binary: String, _ arguments: [String], in scratch: ScratchDirectory) throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        out = scratch.file("out-\(tag)")
        err = scratch.file("err-\(tag)")
        process = try ChildProcess.spawn(binary, arguments, stdoutPath: out, stderrPath: err)
    }

    /// Waits for the process and collects its output (files removed).
    func finish() -> ToolRun {
        let status = process.wait()
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        return ToolRun(status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// stderr so far.
    func stderrSoFar() -> String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
}

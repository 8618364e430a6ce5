import Foundation

/// Writing to stdout and stderr the way every command does.
enum Output {
    /// Writes `error: MESSAGE` on stderr, on one line.
    static func error(_ message: String) {
        standardError("error: " + oneLine(message))
    }

    /// Writes `warning: MESSAGE` on stderr, on one line.
    static func warning(_ message: String) {
        standardError("warning: " + oneLine(message))
    }

    /// Writes a line on stderr.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a value as one JSON object on stdout (keys sorted, `/` unescaped).
    /// - Throws: `EncodingError` (not expected for the report types).
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Keeps a message on one line whatever a file name or detail holds.
    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }
}

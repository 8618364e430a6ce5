import ArgumentParser
import Foundation
import MirrorEngine
import TreeDiff

/// Turns the errors a command can meet into one line on stderr and a `sysexits.h` exit status,
/// so a sysadmin sees what to fix and scripts can tell bad settings from unreadable trees.
///
/// Statuses: 78 (`EX_CONFIG`) for a bad configuration, rules file, layout or tree list;
/// 66 (`EX_NOINPUT`) for a root or tree that cannot be opened; 1 for anything else.
/// Argument errors (`ValidationError`) are left to ArgumentParser (status 64, `EX_USAGE`).
enum CommandFailure {
    static let configStatus: Int32 = 78
    static let noInputStatus: Int32 = 66

    /// Runs a command body, reporting a known error as one `error: ...` line.
    /// - Throws: `ExitCode` with the status for the error; `ValidationError` and `ExitCode` as they are.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            let (message, status) = describe(error)
            Output.error(message)
            throw ExitCode(status)
        }
    }

    /// The one-line message and exit status for an error.
    static func describe(_ error: any Error) -> (message: String, status: Int32) {
        switch error {
        case let error as ConfigError:
            return (error.description, configStatus)
        case let error as FilterError:
            return (error.description, configStatus)
        case let error as CloudminError:
            return (error.description, error.code == .rootUnreadable ? noInputStatus : configStatus)
        case let error as ScanError:
            switch error.code {
            case .rootUnavailable, .treeUnreadable: return (error.description, noInputStatus)
            case .invalidTreePath, .symlinkInTreePath, .notADirectory: return (error.description, configStatus)
            }
        case let error as RunLock.Busy:
            return (error.description, 75)  // EX_TEMPFAIL: try again later
        case let error as NoTreeFound:
            return (error.description, noInputStatus)
        case let error as CocoaError:
            // Foundation errors: their localized text, never a type dump.
            return (error.localizedDescription, 1)
        case let error as CustomStringConvertible:
            return (error.description, 1)
        default:
            return ((error as NSError).localizedDescription, 1)
        }
    }
}

/// None of the configured trees exists under the root: almost always a wrong `--root` or tree
/// list, and never something to replicate (a replica would be emptied).
struct NoTreeFound: Error, CustomStringConvertible {
    let root: String
    let trees: [String]

    var description: String {
        "none of the configured trees (\(trees.map { "/" + $0 }.joined(separator: ", "))) exists under \(root); "
            + "check --root and the `tree` lines of the configuration"
    }
}

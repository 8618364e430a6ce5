// cloudmin-bench: measurements (not tests). Each subcommand prints its figures beside the
// reference tool it is compared with, measured in the same run.
//
//   cloudmin-bench delta [--size-mib N] [--seed S] ...                librsync engine vs rdiff
//   cloudmin-bench transport [--size-mib N] [--buffer-kib K,K] ...    SSHTransport vs scp/sftp
//   cloudmin-bench compare [--systems N] [--image-gib G] [--rate R] ... cloudmin-mirror vs rsync (root)
//   cloudmin-bench faults [--trials N] [--seed S] [--only kind,...]   fault injection (issue 7)
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "delta": try runDeltaBench(arguments: Array(arguments.dropFirst()))
case "transport": try runTransportBench(arguments: Array(arguments.dropFirst()))
case "compare": try runCompareBench(arguments: Array(arguments.dropFirst()))
case "faults": try runFaultsBench(arguments: Array(arguments.dropFirst()))
case nil, "-h", "--help":
    print("usage: cloudmin-bench delta|transport|compare|faults [options]   (compare --help; faults: see bench/FaultsBench.swift)")
default:
    FileHandle.standardError.write(Data("cloudmin-bench: unknown benchmark `\(arguments[0])`; use delta, transport, compare or faults\n".utf8))
    exit(2)
}

// cloudmin-bench: measurements (not tests). Each subcommand prints its figures beside the
// reference tool it is compared with, measured in the same run.
//
//   cloudmin-bench delta [--size-mib N] [--seed S] ...      librsync engine vs rdiff
//   cloudmin-bench transport [--size-mib N] [--buffer-kib K,K] ...   SSHTransport vs scp/sftp

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: cloudmin-bench delta|transport [options]   (see bench/*.swift for options)"
switch arguments.first {
case "delta": try runDeltaBench(arguments: Array(arguments.dropFirst()))
case "transport": try runTransportBench(arguments: Array(arguments.dropFirst()))
default:
    print(usage)
    if let first = arguments.first, first != "-h", first != "--help" {
        fatalError("unknown benchmark \(first)")
    }
}

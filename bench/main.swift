try runDeltaBench(arguments: Array(CommandLine.arguments.dropFirst()))

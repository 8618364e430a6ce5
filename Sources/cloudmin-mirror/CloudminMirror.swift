import ArgumentParser

@main
struct CloudminMirror: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudmin-mirror",
        abstract: "Keep read-only replicas of a Cloudmin master in step over SSH.",
        version: "0.1.0",
        subcommands: [
            ScanCommand.self,
            ReplicaCommand.self,
            MasterCommand.self,
            SyncCommand.self,
            CatchUpCommand.self,
            VerifyCommand.self,
            StatusCommand.self,
            ConfigCommand.self,
            DemoCommand.self,
            DaemonCommand.self,
            InstallServiceCommand.self,
        ]
    )
}

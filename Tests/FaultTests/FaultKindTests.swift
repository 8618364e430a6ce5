import FaultLab
import Foundation
import Testing

/// The short CI version of `cloudmin-bench faults`: each fault kind injected a few times into a
/// real master/replica pair (replica behind a loopback sshd, the built `cloudmin-mirror`).
@Suite struct FaultKindTests {
    @Test func replicaKilledDuringCommit() throws {
        try expectFaultsHandled(.commitCrash, trials: 3)
    }

    @Test func linkCutDuringTransfer() throws {
        try expectFaultsHandled(.linkCut, trials: 3)
    }

    @Test func masterKilledMidRun() throws {
        try expectFaultsHandled(.masterCrash, trials: 2)
    }

    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func replicaDiskFull() throws {
        try expectFaultsHandled(.fullDisk, trials: 3)  // refused, filled while arriving, filled while committing
    }

    @Test func concurrentRunsDoNotDouble() throws {
        try expectFaultsHandled(.concurrentRuns, trials: 2)
    }

    @Test func handEditsFoundAndRepaired() throws {
        try expectFaultsHandled(.handEdit, trials: 6)  // every edit, by verify and by the next run
    }
}

import Foundation
import Testing
import TestSupport
@testable import MirrorEngine

/// `ReplicaSetup`: the role and the authorized_keys entry change together, or not at all.
@Suite struct AuthorizedKeysSetupTests {
    struct Host {
        let dir: ScratchDirectory
        let context: MirrorContext
        let keys: AuthorizedKeys
        init() throws {
            dir = try ScratchDirectory(prefix: "cm-setup")
            context = try MirrorContext(root: dir.path)
            keys = AuthorizedKeys(path: dir.file("authorized_keys"))
        }
        func key(_ name: String) throws -> PublicKey {
            try PublicKey(line: TestKeys.generate(.ed25519, in: dir.path, name: name).publicKeyLine, source: name)
        }
        func role() throws -> RoleRecord { try RoleRecord.load(stateDirectory: context.stateDirectory) }
        @discardableResult
        func initialize(_ key: PublicKey, force: Bool = false) throws -> ReplicaSetup.Outcome {
            try ReplicaSetup.initialize(context: context, key: key, authorizedKeys: keys, executable: "/usr/bin/cloudmin-mirror",
                                        root: dir.path, config: nil, force: force)
        }
        @discardableResult
        func setMaster(_ key: PublicKey) throws -> ReplicaSetup.Outcome {
            try ReplicaSetup.setMaster(context: context, key: key, authorizedKeys: keys, executable: "/usr/bin/cloudmin-mirror",
                                       root: dir.path, config: nil)
        }
    }

    private func code(_ error: any Error) -> AccessError.Code? { (error as? AccessError)?.code }

    @Test func initRecordsTheRoleAndInstallsTheKey() throws {
        let host = try Host()
        let master = try host.key("m")
        try host.initialize(master)
        #expect(try host.role().role == .replica)
        #expect(try host.role().masterFingerprint == master.fingerprint)
        let entries = try host.keys.entries()
        #expect(entries.count == 1)
        #expect(entries.first?.contains("--master-fingerprint \(master.fingerprint)") == true)
        #expect(entries.first?.hasPrefix("restrict,command=\"/usr/bin/cloudmin-mirror replica serve --root ") == true)
    }

    @Test func initOnAMasterIsRefusedAndChangesNothing() throws {
        let host = try Host()
        try host.context.ensureStateDirectory()
        try RoleRecord(role: .master, lineage: "L1").save(stateDirectory: host.context.stateDirectory)
        #expect { try host.initialize(host.key("m")) } throws: { code($0) == .isMaster }
        #expect(try host.role().role == .master)
        #expect(!FileManager.default.fileExists(atPath: host.keys.path))
    }

    @Test func anotherMasterNeedsForce() throws {
        let host = try Host()
        let first = try host.key("a"), second = try host.key("b")
        try host.initialize(first)
        try host.initialize(first)  // the same master again is fine
        #expect { try host.initialize(second) } throws: { code($0) == .otherMaster }
        #expect(try host.role().masterFingerprint == first.fingerprint)
        #expect(try host.keys.entries().first?.contains(first.base64) == true)
        let outcome = try host.initialize(second, force: true)
        #expect(outcome.previousMaster == first.fingerprint)
        #expect(try host.role().masterFingerprint == second.fingerprint)
        #expect(try host.keys.entries().count == 1)
        #expect(try host.keys.entries().first?.contains(second.base64) == true)
    }

    @Test func setMasterNeedsTheReplicaRoleAndKeepsTheLineage() throws {
        let host = try Host()
        let first = try host.key("a"), second = try host.key("b")
        #expect { try host.setMaster(first) } throws: { code($0) == .notReplica }
        #expect(!FileManager.default.fileExists(atPath: host.keys.path))
        try host.initialize(first)
        var role = try host.role()
        role.lineage = "lineage-1"
        try role.save(stateDirectory: host.context.stateDirectory)
        let outcome = try host.setMaster(second)
        #expect(outcome.replacedEntry)
        #expect(try host.role().lineage == "lineage-1")
        #expect(try host.role().masterFingerprint == second.fingerprint)
        #expect(try host.keys.entries().count == 1)
        #expect(try host.keys.entries().first?.contains(second.base64) == true)
    }

    @Test func writingCommandsRefuseOnAReplicaOnly() throws {
        let host = try Host()
        try ReplicaSetup.refuseOnReplica(context: host.context, action: "mirror run")
        try host.initialize(host.key("m"))
        #expect { try ReplicaSetup.refuseOnReplica(context: host.context, action: "mirror run") } throws: { code($0) == .replicaReadOnly }
    }

    @Test func serveRefusesAKeyThatIsNotTheRecordedMaster() throws {
        let host = try Host()
        let master = try host.key("m"), other = try host.key("o")
        try host.initialize(master)
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let stream = FileDescriptorStream(input: .init(rawValue: fds[0]), output: .init(rawValue: fds[0]))
        #expect {
            try ServeDispatch.serve(context: host.context, masterFingerprint: other.fingerprint,
                                    originalCommand: ServeDispatch.protocolCommand, stream: stream)
        } throws: { code($0) == .wrongMaster }
        #expect {
            try ServeDispatch.serve(context: host.context, masterFingerprint: master.fingerprint,
                                    originalCommand: "sh -c id", stream: stream)
        } throws: { code($0) == .refusedCommand }
        // Nothing was sent to the refused peer.
        var byte: UInt8 = 0
        #expect(recv(fds[1], &byte, 1, Int32(MSG_DONTWAIT)) == -1)
    }
}

import Foundation
import LoopbackSSHD
@testable import MirrorEngine
import Testing

/// What the daemon watches, on real files: the collected-status directory or a marker file.
@Suite struct DaemonProbeTests {
    let scratch: ScratchDirectory
    let collected: String

    init() throws {
        scratch = try ScratchDirectory(prefix: "cm-probe")
        collected = scratch.file("var/webmin/modules/server-manager/collected")
    }

    func context(_ config: String = "") throws -> MirrorContext {
        try FileManager.default.createDirectory(atPath: scratch.file("etc/cloudmin-mirror"), withIntermediateDirectories: true)
        try config.write(toFile: scratch.file("etc/cloudmin-mirror/cloudmin-mirror.conf"), atomically: true, encoding: .utf8)
        return try MirrorContext(root: scratch.path)
    }

    /// Sets a file's mtime `seconds` ahead of now, as a later write would.
    func touch(_ path: String, ahead seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: seconds)], ofItemAtPath: path)
    }

    @Test func theCollectedDirectorySeesNewChangedNestedAndRemovedFiles() throws {
        let context = try context()
        #expect(CollectionProbe.stamp(context) == nil)  // no collection yet
        try FileManager.default.createDirectory(atPath: collected + "/7", withIntermediateDirectories: true)
        try "status=alive\n".write(toFile: collected + "/5", atomically: false, encoding: .utf8)
        let first = try #require(CollectionProbe.stamp(context))
        #expect(CollectionProbe.stamp(context) == first)  // looking changes nothing

        try touch(collected + "/5", ahead: 10)
        let changed = try #require(CollectionProbe.stamp(context))
        #expect(changed != first)

        try "up\n".write(toFile: collected + "/7/status", atomically: false, encoding: .utf8)
        try touch(collected + "/7/status", ahead: 20)
        let nested = try #require(CollectionProbe.stamp(context))
        #expect(nested != changed)

        try FileManager.default.removeItem(atPath: collected + "/5")
        #expect(CollectionProbe.stamp(context) != nested)
    }

    @Test func aMarkerFileIsWatchedInsteadOfTheDirectory() throws {
        let context = try context("collection_marker = /run/collection.done\n")
        try FileManager.default.createDirectory(atPath: collected, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.file("run"), withIntermediateDirectories: true)
        #expect(CollectionProbe.stamp(context) == nil)
        try "".write(toFile: scratch.file("run/collection.done"), atomically: false, encoding: .utf8)
        let marked = try #require(CollectionProbe.stamp(context))

        try "status=alive\n".write(toFile: collected + "/5", atomically: false, encoding: .utf8)
        try touch(collected + "/5", ahead: 10)
        #expect(CollectionProbe.stamp(context) == marked)  // status writes alone do not count

        try touch(scratch.file("run/collection.done"), ahead: 10)
        #expect(CollectionProbe.stamp(context) != marked)
    }

    @Test func aSymlinkedCollectionIsNotFollowed() throws {
        let context = try context()
        let elsewhere = scratch.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: (collected as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: collected, withDestinationPath: elsewhere)
        let before = try #require(CollectionProbe.stamp(context))
        try "x".write(toFile: elsewhere + "/5", atomically: false, encoding: .utf8)
        #expect(CollectionProbe.stamp(context) == before)
    }
}

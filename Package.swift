// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cloudmin-mirror",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cloudmin-mirror", targets: ["cloudmin-mirror"]),
        .library(name: "TreeDiff", targets: ["TreeDiff"]),
        .library(name: "SSHTransport", targets: ["SSHTransport"]),
        .library(name: "MirrorEngine", targets: ["MirrorEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // C libraries, each behind a module map and a static-inline shim header.
        .systemLibrary(
            name: "CLibrsync",
            path: "Sources/CLibrsync",
            providers: [.apt(["librsync-dev"])]
        ),
        .systemLibrary(
            name: "CLibssh2",
            path: "Sources/CLibssh2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // Linux calls Glibc's module does not export (syncfs), as static inline shims.
        .target(name: "CSyscalls", path: "Sources/CSyscalls"),

        // Layer 1: what a tree holds, what changed, and how to ship it.
        .target(
            name: "TreeDiff",
            dependencies: [
                "CLibrsync", "CZlib",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Layer 1: how bytes reach a replica.
        .target(
            name: "SSHTransport",
            dependencies: [
                "CLibssh2",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // A real OpenSSH sshd on loopback, started and stopped by its owner: for the demo's
        // replica, the benchmarks and the end-to-end tests.
        .target(name: "LoopbackSSHD"),

        // Layer 2: the replication engine (roles, runs, staging, commit).
        .target(
            name: "MirrorEngine",
            dependencies: [
                "TreeDiff", "SSHTransport", "LoopbackSSHD", "CSyscalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Layer 3: the thin command-line tool.
        .executableTarget(
            name: "cloudmin-mirror",
            dependencies: [
                "MirrorEngine", "TreeDiff", "SSHTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Test helpers shared by the suites: temp trees, a real sshd on loopback.
        .target(
            name: "TestSupport",
            dependencies: [
                "TreeDiff", "SSHTransport", "LoopbackSSHD",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TreeDiffTests", dependencies: ["TreeDiff", "TestSupport"]),
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport", "TestSupport"]),
        .testTarget(name: "MirrorEngineTests", dependencies: ["MirrorEngine", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        // Decoders fed mutated and random bytes (property-based fuzzing; longer runs via
        // CLOUDMIN_FUZZ_ITERATIONS).
        .testTarget(name: "FuzzTests", dependencies: ["TreeDiff", "MirrorEngine", "TestSupport"]),

        // Fault injection: trials that crash, cut and fill a real master/replica pair and check
        // that every replica holds one whole generation. Driven by `cloudmin-bench faults` and,
        // in a short version, by FaultTests in CI.
        .target(
            name: "FaultLab",
            dependencies: [
                "MirrorEngine", "TreeDiff", "LoopbackSSHD",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(name: "FaultTests", dependencies: ["FaultLab", "MirrorEngine", "TestSupport"]),

        // Benchmarks (not tests): `swift run -c release cloudmin-bench ...`.
        .executableTarget(
            name: "cloudmin-bench",
            dependencies: [
                "TreeDiff", "SSHTransport", "MirrorEngine", "TestSupport", "FaultLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench"
        ),
    ],
    swiftLanguageModes: [.v6]
)

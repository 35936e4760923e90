// swift-tools-version:6.1
import PackageDescription

// Layering (see Docs/Architecture.md):
//   LVXCore      pure model, validation, planning, rendering, seams. No I/O, no C.
//   LVXWire      PI18 framing, CRC, commands, decoders (pure).
//   LVXPort      transports (hidraw, serial, TCP), the PI18 client, discovery seam.
//   LVXYAML      libyaml adapter      (the only importer of CYAML)
//   LVXGit       libgit2 adapter      (the only importer of CLibGit2 / CGitShims)
//   LVXSystemd   libsystemd adapter   (the only importer of CSystemd)
//   LVXSSH       OpenSSH ssh-keygen adapter (signs and verifies SSHSIG as a child process)
//   LVXSimulator the fake inverter (never a dependency of `lvx`)
//   LVXReport    `lvx report`: the settings timeline as a static HTML page (Plot), SVG charts
let package = Package(
    name: "lvx",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lvx", targets: ["lvx"]),
        .executable(name: "lvx-sim", targets: ["lvx-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
    ],
    targets: [
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "CGitShims", dependencies: ["CLibGit2"]),

        .target(name: "LVXCore"),
        .target(name: "LVXWire", dependencies: ["LVXCore"]),
        .target(name: "LVXPort", dependencies: ["LVXCore", "LVXWire"]),
        .target(name: "LVXYAML", dependencies: ["LVXCore", "CYAML"]),
        .target(name: "LVXGit", dependencies: ["LVXCore", "CLibGit2", "CGitShims"]),
        .target(
            name: "LVXSystemd",
            dependencies: ["LVXCore", "CSystemd", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "LVXSSH", dependencies: ["LVXCore"]),
        .target(name: "LVXSimulator", dependencies: ["LVXCore", "LVXWire"]),
        .target(
            name: "LVXReconcile",
            dependencies: ["LVXCore", "LVXWire", .product(name: "Logging", package: "swift-log")]
        ),

        .target(name: "LVXReport", dependencies: ["LVXCore", .product(name: "Plot", package: "Plot")]),

        .executableTarget(
            name: "lvx",
            dependencies: [
                "LVXCore", "LVXWire", "LVXPort", "LVXYAML", "LVXGit", "LVXSystemd", "LVXReconcile", "LVXSSH",
                "LVXReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "lvx-sim",
            dependencies: [
                "LVXSimulator", "LVXWire", "LVXCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .target(name: "LVXTestSupport", dependencies: ["LVXCore", "LVXWire"]),

        .testTarget(name: "LVXCoreTests", dependencies: ["LVXCore", "LVXYAML", "LVXTestSupport"]),
        .testTarget(
            name: "LVXWireTests",
            dependencies: ["LVXWire", "LVXCore", "LVXTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "LVXPortTests",
            dependencies: ["LVXPort", "LVXWire", "LVXCore", "LVXSimulator", "LVXTestSupport"]
        ),
        .testTarget(name: "LVXYAMLTests", dependencies: ["LVXYAML", "LVXCore", "LVXTestSupport"]),
        .testTarget(name: "LVXGitTests", dependencies: ["LVXGit", "LVXSSH", "LVXCore", "LVXTestSupport"]),
        .testTarget(name: "LVXSSHTests", dependencies: ["LVXSSH", "LVXCore", "LVXTestSupport"]),
        .testTarget(
            name: "LVXSystemdTests",
            dependencies: ["LVXSystemd", "LVXCore", "LVXTestSupport"],
            exclude: ["README.md", "Scripts"]
        ),
        .testTarget(name: "LVXSimulatorTests", dependencies: ["LVXSimulator", "LVXWire", "LVXCore", "LVXTestSupport"]),
        .testTarget(
            name: "LVXReconcileTests",
            dependencies: [
                "LVXReconcile", "LVXCore", "LVXWire", "LVXPort", "LVXSimulator", "LVXYAML", "LVXTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LVXEndToEndTests", dependencies: ["LVXCore", "LVXWire", "LVXYAML", "LVXTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

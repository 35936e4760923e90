import Foundation

/// Locations of the package and its companion material, found from a source file path.
public enum PackagePaths {
    /// The package root: the nearest ancestor of `file` holding `Package.swift`.
    public static func root(from file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// The PI18 captures: `../shared/reference/pi18-captures.json` beside the package when present,
    /// else the copy vendored under `Tests/LVXWireTests/Fixtures/` (same bytes; a test checks that).
    public static func capturesFile(from file: String = #filePath) -> URL {
        let root = root(from: file)
        let shared = root.deletingLastPathComponent().appendingPathComponent("shared/reference/pi18-captures.json")
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        return vendoredCapturesFile(from: file)
    }

    /// The vendored copy of the captures.
    public static func vendoredCapturesFile(from file: String = #filePath) -> URL {
        root(from: file).appendingPathComponent("Tests/LVXWireTests/Fixtures/pi18-captures.json")
    }

    /// The directory holding the built products (`lvx`, `lvx-sim`) next to the running test bundle.
    public static func productsDirectory() -> URL {
        if let override = ProcessInfo.processInfo.environment["LVX_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("lvx").path) { return url }
        }
        return root().appendingPathComponent(".build/debug")
    }
}

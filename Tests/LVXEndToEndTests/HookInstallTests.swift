import Foundation
import LVXTestSupport
import Testing

/// How the pre-receive hook finds `lvx` when it runs, and `lvx init --hooks` on an existing repository.
@Suite("the push hooks find lvx at run time")
struct HookInstallTests {
    static let missing =
        "lvx: cannot check this push: the lvx command is not installed on the hub (looked in PATH and /usr/bin/lvx)"
    static let fixErrors = "fix the errors above"
    /// A PATH with git and the shell but no lvx (unless the machine has /usr/bin/lvx: see `packaged`).
    static let pathWithoutLVX = "/usr/bin:/bin"
    /// Whether this machine has lvx installed where the hook looks after PATH.
    static let packaged = FileManager.default.isExecutableFile(atPath: "/usr/bin/lvx")

    /// A temporary directory with a copy of the built `lvx` in `bin/`, a bare hub made by that copy's
    /// `lvx init`, and a clone of the hub.
    final class MovedHub: @unchecked Sendable {
        // Used by one test at a time.
        let base: URL
        let copy: String
        let hub: String
        let clone: String

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hook-install-\(UUID())")
            let bin = base.appendingPathComponent("bin")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            copy = bin.appendingPathComponent("lvx").path
            // Copied by a child process: a file this process wrote could fail to run with ETXTBSY
            // while a parallel test's fork still held the descriptor it was written through (seen
            // once in a fresh-clone run under load).
            let copied = try runCommand(
                "/bin/cp",
                [PackagePaths.productsDirectory().appendingPathComponent("lvx").path, copy]
            )
            guard copied.exitCode == 0 else { throw SimulatorError(message: "cp failed: \(copied)") }
            hub = base.appendingPathComponent("hub.git").path
            clone = base.appendingPathComponent("clone").path
            let made = try runCommand(copy, ["init", hub, "--bare"])
            guard made.exitCode == 0 else { throw SimulatorError(message: "lvx init failed: \(made)") }
            try git(["clone", "-q", hub, clone])
        }

        /// Runs git with `environment` added, whatever its exit code.
        @discardableResult
        func git(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
            try runCommand(
                "/usr/bin/git",
                arguments,
                environment: TemporaryRepository.gitEnvironment.merging(environment) { $1 }
            )
        }

        /// Writes `text` to `path` in the clone and commits it.
        func commit(_ path: String, _ text: String) throws {
            try text.write(toFile: clone + "/" + path, atomically: true, encoding: .utf8)
            try git(["-C", clone, "commit", "-qam", "edit \(path)"])
        }

        /// Commits a valid change: a comment added to lvx.yaml.
        func commitValidChange() throws {
            let text = try String(contentsOfFile: clone + "/lvx.yaml", encoding: .utf8)
            try commit("lvx.yaml", text + "# reviewed\n")
        }

        /// Pushes the clone's main with the hook seeing `path` as PATH.
        func push(path: String, environment: [String: String] = [:]) throws -> CommandResult {
            try git(
                ["-C", clone, "push", "origin", "main"],
                environment: ["PATH": path, "LVX_BIN": "", "LVX_ALLOWED_SIGNERS": "none"].merging(environment) { $1 }
            )
        }

        /// The commit the hub's main points at.
        func tip() throws -> String {
            try git(["-C", hub, "rev-parse", "main"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        deinit { try? FileManager.default.removeItem(at: base) }
    }

    @Test(
        "with the lvx that ran lvx init moved away and none on PATH, a push is rejected saying lvx is not installed",
        .disabled(if: packaged, "/usr/bin/lvx is installed here, so the hook finds it")
    )
    func movedAndMissing() throws {
        let hub = try MovedHub()
        try FileManager.default.removeItem(atPath: hub.copy)
        let before = try hub.tip()
        try hub.commitValidChange()

        let pushed = try hub.push(path: Self.pathWithoutLVX)

        #expect(pushed.exitCode != 0)
        #expect(pushed.stderr.contains("remote: \(Self.missing)"), "\(pushed)")
        #expect(pushed.stderr.components(separatedBy: Self.missing).count == 2, "said once: \(pushed)")
        #expect(!pushed.stderr.contains(Self.fixErrors), "\(pushed)")
        #expect(pushed.stderr.contains("main -> main (pre-receive hook declined)"))
        #expect(try hub.tip() == before)
    }

    @Test("with the lvx that ran lvx init moved away, the hook runs the lvx on PATH and still validates")
    func movedAndOnPath() throws {
        let hub = try MovedHub()
        try FileManager.default.removeItem(atPath: hub.copy)
        let path = PackagePaths.productsDirectory().path + ":" + Self.pathWithoutLVX

        try hub.commit("lvx.yaml", "site: [unclosed\n")
        let invalid = try hub.push(path: path)
        try hub.git(["-C", hub.clone, "reset", "-q", "--hard", "HEAD~1"])
        try hub.commitValidChange()
        let valid = try hub.push(path: path)

        #expect(invalid.exitCode != 0)
        #expect(invalid.stderr.contains("lvx.yaml:2:1: error:"), "validate's own errors: \(invalid)")
        #expect(invalid.stderr.contains("lvx: push of refs/heads/main rejected: fix the errors above"), "\(invalid)")
        #expect(valid.exitCode == 0, "\(valid)")
        #expect(valid.stderr.contains("lvx: validating refs/heads/main"))
        #expect(!valid.stderr.contains(Self.missing))
    }

    @Test(
        "with no lvx on PATH, the hook falls back to the lvx that ran lvx init",
        .disabled(if: packaged, "/usr/bin/lvx is installed here, so the hook finds it first")
    )
    func recordedPathIsTheLastResort() throws {
        let hub = try MovedHub()
        try hub.commit("lvx.yaml", "site: [unclosed\n")

        let pushed = try hub.push(path: Self.pathWithoutLVX)

        #expect(pushed.exitCode != 0)
        #expect(pushed.stderr.contains("lvx.yaml:2:1: error:"), "validated by the recorded lvx: \(pushed)")
        #expect(pushed.stderr.contains(Self.fixErrors))
        #expect(!pushed.stderr.contains(Self.missing))
    }

    @Test("LVX_BIN naming no program rejects the push saying so, not as invalid desired state")
    func lvxBinMissing() throws {
        let hub = try MovedHub()
        try hub.commitValidChange()

        let pushed = try hub.push(path: Self.pathWithoutLVX, environment: ["LVX_BIN": hub.base.path + "/gone/lvx"])

        #expect(pushed.exitCode != 0)
        #expect(
            pushed.stderr.contains(
                "lvx: cannot check this push: \(hub.base.path)/gone/lvx cannot be run (exit 127); install lvx on the hub or fix LVX_BIN"
            ),
            "\(pushed)"
        )
        #expect(!pushed.stderr.contains(Self.fixErrors))
    }

    @Test(
        "lvx init --hooks installs working hooks and the settings in an existing repository, leaving its content alone",
        arguments: [true, false]
    )
    func hooksInExistingRepository(bare: Bool) throws {
        let source = try TemporaryRepository()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hooks-existing-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let repository = base.appendingPathComponent(bare ? "site.git" : "site").path
        let clone = base.appendingPathComponent("clone").path
        let env = TemporaryRepository.gitEnvironment.merging(["LVX_ALLOWED_SIGNERS": "none"]) { $1 }
        func git(_ arguments: String...) throws -> CommandResult {
            try runCommand("/usr/bin/git", arguments, environment: env)
        }
        _ = try git("clone", "-q", bare ? "--bare" : "--no-hardlinks", source.path.path, repository)
        let hooksDirectory = repository + (bare ? "" : "/.git") + "/hooks"
        let before = try git("-C", repository, "rev-parse", "HEAD").stdout
        let files = try git("-C", repository, "ls-tree", "-r", "HEAD").stdout

        let installed = try lvx(["init", "--hooks", repository])

        #expect(installed.exitCode == 0, "\(installed)")
        #expect(installed.stdout.contains("installed hooks in \(hooksDirectory)"), "\(installed)")
        for hook in ["pre-receive", "post-receive"] {
            #expect(FileManager.default.isExecutableFile(atPath: hooksDirectory + "/" + hook), "\(hook)")
        }
        #expect(try git("-C", repository, "config", "--get", "receive.denyNonFastForwards").stdout == "true\n")
        #expect(try git("-C", repository, "config", "--get", "receive.denyDeletes").stdout == "true\n")
        #expect(try git("-C", repository, "rev-parse", "HEAD").stdout == before)
        #expect(try git("-C", repository, "ls-tree", "-r", "HEAD").stdout == files)
        if !bare { #expect(try git("-C", repository, "status", "--porcelain").stdout.isEmpty) }

        // The hooks work: a forged record is refused, an invalid desired state too, a valid change lands.
        // A non-bare repository refuses a push to its checked-out branch, so push a new branch there.
        let ref = bare ? "main" : "review"
        _ = try git("clone", "-q", repository, clone)
        _ = try git("-C", clone, "checkout", "-q", "-B", "work", "origin/main")
        try FileManager.default.createDirectory(atPath: clone + "/runs", withIntermediateDirectories: true)
        try "forged: true\n".write(toFile: clone + "/runs/last.yaml", atomically: true, encoding: .utf8)
        _ = try git("-C", clone, "add", "-A")
        _ = try git("-C", clone, "commit", "-qm", "a record by hand")
        let forged = try git("-C", clone, "push", "origin", "work:\(ref)")
        _ = try git("-C", clone, "reset", "-q", "--hard", "origin/main")
        try "site: [unclosed\n".write(toFile: clone + "/lvx.yaml", atomically: true, encoding: .utf8)
        _ = try git("-C", clone, "commit", "-qam", "invalid")
        let invalid = try git("-C", clone, "push", "origin", "work:\(ref)")
        _ = try git("-C", clone, "reset", "-q", "--hard", "origin/main")
        let site = try String(contentsOfFile: clone + "/lvx.yaml", encoding: .utf8)
        try (site + "# reviewed\n").write(toFile: clone + "/lvx.yaml", atomically: true, encoding: .utf8)
        _ = try git("-C", clone, "commit", "-qam", "valid")
        let valid = try git("-C", clone, "push", "origin", "work:\(ref)")

        #expect(forged.exitCode != 0)
        #expect(forged.stderr.contains("lvx: refusing refs/heads/\(ref): commit"), "\(forged)")
        #expect(invalid.exitCode != 0)
        #expect(invalid.stderr.contains("lvx: push of refs/heads/\(ref) rejected: fix the errors above"), "\(invalid)")
        #expect(valid.exitCode == 0, "\(valid)")
        #expect(valid.stderr.contains("lvx: validating refs/heads/\(ref)"), "\(valid)")
    }

    @Test("lvx init --hooks refuses a directory that is not a repository, and --bare or --from-live beside it")
    func hooksRefusals() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-hooks-empty-\(UUID())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }

        let notRepository = try lvx(["init", "--hooks", empty.path])
        let withBare = try lvx(["init", "--hooks", "--bare", empty.path])

        #expect(notRepository.exitCode == 1)
        #expect(
            notRepository.stderr.contains("cannot install hooks: '\(empty.path)' is not a git repository"),
            "\(notRepository)"
        )
        #expect(!FileManager.default.fileExists(atPath: empty.path + "/hooks"))
        #expect(withBare.exitCode == 64)
        #expect(withBare.stderr.contains("--hooks cannot be combined with --bare"), "\(withBare)")
    }
}

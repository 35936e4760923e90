import ArgumentParser
import Foundation
import LVXCore
import LVXGit
import LVXReconcile
import LVXYAML

/// Options naming the desired-state repository.
struct RepositoryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The desired-state repository (default: LVX_REPO, else the current directory).",
            valueName: "dir"
        )
    )
    var repo: String?

    /// The repository path to use.
    var path: String {
        repo ?? ProcessInfo.processInfo.environment["LVX_REPO"] ?? FileManager.default.currentDirectoryPath
    }

    /// Opens the repository; inside a pre-receive hook git's variables point at the quarantined objects.
    func open() throws -> GitRepository { try Self.open(path) }

    /// Opens the repository at `path`.
    static func open(_ path: String) throws -> GitRepository {
        do {
            let inHook = ProcessInfo.processInfo.environment["GIT_QUARANTINE_PATH"] != nil
            return try GitRepository.open(path: path, honouringGitEnvironment: inHook)
        } catch {
            throw CLIError(
                "not a desired-state repository: \(path) (\(error.description))",
                hint: "pass --repo DIR, set LVX_REPO, or create one with `git init` and an lvx.yaml"
            )
        }
    }
}

/// The desired state read from the repository at a revision, with every diagnostic found.
struct Site {
    let repository: GitRepository
    let snapshot: SiteSnapshot

    var files: DesiredFiles { snapshot.files }
    var state: DesiredState? { snapshot.state }
    var diagnostics: [Diagnostic] { snapshot.diagnostics }

    /// Opens the repository and reads `lvx.yaml` and `profiles/*.yaml` at `revision`, from git
    /// objects only (never the working tree).
    static func load(repositoryPath: String, revision: String = "HEAD", today: CivilDate) throws -> Site {
        let repository = try RepositoryOptions.open(repositoryPath)
        return Site(
            repository: repository,
            snapshot: try SiteSnapshot.load(repository, codec: YAMLCodec(), revision: revision, today: today)
        )
    }

    /// Prints every diagnostic with its source line and caret to standard error.
    func printDiagnostics(to terminal: Terminal = .standardError) {
        for d in diagnostics { terminal.line(snapshot.render(d)) }
    }

    /// The state, after printing its warnings; or its errors printed and thrown.
    func requireValid() throws -> DesiredState {
        if let state {
            for d in snapshot.warnings { Terminal.standardError.line(snapshot.render(d)) }
            return state
        }
        return try snapshot.requireValid()
    }
}

/// The system wall clock.
struct SystemClock: WallClock {
    func now() -> WallTime {
        if let fixed = ProcessInfo.processInfo.environment["LVX_NOW"], let time = WallTime(iso8601: fixed) {
            return time
        }
        return WallTime(secondsSince1970: Int64(Date().timeIntervalSince1970))
    }
}

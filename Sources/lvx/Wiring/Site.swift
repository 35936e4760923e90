import ArgumentParser
import Foundation
import LVXCore
import LVXGit
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
}

/// The desired state read from the repository at a revision, with every diagnostic found.
struct Site {
    let repository: GitRepository
    let files: DesiredFiles
    /// `nil` when any diagnostic is an error.
    let state: DesiredState?
    let diagnostics: [Diagnostic]
    /// Each file's lines, for printing a caret under an error.
    let sourceLines: [String: [String]]

    /// Opens the repository and reads `lvx.yaml` and `profiles/*.yaml` at `revision`, from git
    /// objects only (never the working tree).
    static func load(repositoryPath: String, revision: String = "HEAD", today: CivilDate) throws -> Site {
        let repository: GitRepository
        do {
            // In a pre-receive hook the pushed objects are quarantined; git's variables point at them.
            let inHook = ProcessInfo.processInfo.environment["GIT_QUARANTINE_PATH"] != nil
            repository = try GitRepository.open(path: repositoryPath, honouringGitEnvironment: inHook)
        } catch {
            throw CLIError(
                "not a desired-state repository: \(repositoryPath) (\(error.description))",
                hint: "pass --repo DIR, set LVX_REPO, or create one with `git init` and an lvx.yaml"
            )
        }
        let commit = try repository.resolve(revision)
        var contents: [String: [UInt8]] = [:]
        if let site = try repository.file(DesiredStateLoader.siteFile, at: commit) {
            contents[DesiredStateLoader.siteFile] = site
        }
        for path in try repository.list(DesiredStateLoader.profilesDirectory, at: commit) {
            let full =
                path.hasPrefix(DesiredStateLoader.profilesDirectory + "/")
                ? path : "\(DesiredStateLoader.profilesDirectory)/\(path)"
            if let bytes = try repository.file(full, at: commit) { contents[full] = bytes }
        }
        var nodes: [String: Node] = [:]
        var diagnostics: [Diagnostic] = []
        var lines: [String: [String]] = [:]
        for (path, bytes) in contents {
            lines[path] = DiagnosticRenderer.lines(of: String(decoding: bytes, as: UTF8.self))
            do {
                nodes[path] = try YAMLParser.parse(bytes, file: path)
            } catch {
                diagnostics.append(error.diagnostic)
                // A profile that does not parse still exists, so units using it do not also get
                // "unknown profile"; lvx.yaml that does not parse stops here.
                if path != DesiredStateLoader.siteFile {
                    nodes[path] = .mapping([], SourceLocation(file: path, line: 1, column: 1))
                }
            }
        }
        var state: DesiredState?
        if nodes[DesiredStateLoader.siteFile] != nil || contents[DesiredStateLoader.siteFile] == nil {
            let loaded = DesiredStateLoader.load(files: nodes, today: today)
            diagnostics += loaded.diagnostics
            state = diagnostics.contains { $0.severity == .error } ? nil : loaded.state
        }
        // Syntax errors and the loader's findings, together in file, line, column order.
        diagnostics.sort { a, b in
            switch (a.location, b.location) {
            case (nil, nil): false
            case (nil, _): true
            case (_, nil): false
            case (let x?, let y?): x < y
            }
        }
        return Site(
            repository: repository,
            files: DesiredFiles(commit: commit, files: contents),
            state: state,
            diagnostics: diagnostics,
            sourceLines: lines
        )
    }

    /// The git directory of the repository at `path`, where the lock lives.
    static func gitDirectory(_ path: String) throws -> String {
        do {
            let inHook = ProcessInfo.processInfo.environment["GIT_QUARANTINE_PATH"] != nil
            return try GitRepository.open(path: path, honouringGitEnvironment: inHook).gitDirectory
        } catch {
            throw CLIError(
                "not a desired-state repository: \(path) (\(error.description))",
                hint: "pass --repo DIR, set LVX_REPO, or create one with `git init` and an lvx.yaml"
            )
        }
    }

    /// Prints every diagnostic with its source line and caret to standard error.
    func printDiagnostics(to terminal: Terminal = .standardError) {
        for d in diagnostics {
            terminal.line(DiagnosticRenderer.render(d, sourceLines: d.location.flatMap { sourceLines[$0.file] }))
        }
    }

    /// Refuses a detached HEAD up front, for commands that must commit after touching inverters.
    ///
    /// The commit itself would refuse too, but only after the writes: `apply` would change the
    /// inverters and then lose the record of it.
    func requireBranch() throws {
        guard try repository.currentBranch() == nil else { return }
        throw CLIError(
            "HEAD is detached in \(repository.path); lvx commits only on a branch",
            hint: "check out a branch first (git switch main)"
        )
    }

    /// The state, or an error listing the diagnostics (after printing them).
    func requireValid() throws -> DesiredState {
        if let state {
            for d in diagnostics where d.severity == .warning {
                Terminal.standardError.line(
                    DiagnosticRenderer.render(d, sourceLines: d.location.flatMap { sourceLines[$0.file] })
                )
            }
            return state
        }
        printDiagnostics()
        throw CLIError(
            "the desired state at \(String(files.commit.prefix(12))) is invalid: \(DiagnosticRenderer.summary(diagnostics))",
            hint: "run `lvx validate` and fix the errors above"
        )
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

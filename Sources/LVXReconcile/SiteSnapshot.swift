import LVXCore

/// The desired state read from the repository at one commit, with every diagnostic found.
public struct SiteSnapshot: Sendable {
    /// `lvx.yaml` and `profiles/*.yaml` at the commit.
    public let files: DesiredFiles
    /// `nil` when any diagnostic is an error.
    public let state: DesiredState?
    /// Syntax errors and the loader's findings, in file, line, column order.
    public let diagnostics: [Diagnostic]
    /// Each file's lines, for printing a caret under a diagnostic.
    public let sourceLines: [String: [String]]

    /// Reads `lvx.yaml` and `profiles/*.yaml` at `revision`, from committed objects only.
    public static func load(
        _ repository: any SiteRepository,
        codec: any RecordCodec,
        revision: String = "HEAD",
        today: CivilDate
    ) throws(RepositoryError) -> SiteSnapshot {
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
                nodes[path] = try codec.parse(bytes, file: path)
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
        diagnostics.sort { a, b in
            switch (a.location, b.location) {
            case (nil, nil): false
            case (nil, _): true
            case (_, nil): false
            case (let x?, let y?): x < y
            }
        }
        return SiteSnapshot(
            files: DesiredFiles(commit: commit, files: contents),
            state: state,
            diagnostics: diagnostics,
            sourceLines: lines
        )
    }

    /// The commit the files were read at.
    public var commit: String { files.commit }

    /// The warnings (the state is valid, but something deserves a look).
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// The state, or why there is none.
    public func requireValid() throws(InvalidDesiredState) -> DesiredState {
        guard let state else {
            throw InvalidDesiredState(commit: commit, diagnostics: diagnostics, details: diagnostics.map(render))
        }
        return state
    }

    /// The apply policy, or the defaults when the state is invalid (for reading records only).
    public var applyPolicy: ApplyPolicy { state?.applyPolicy ?? ApplyPolicy() }

    /// A diagnostic with its source line and caret.
    public func render(_ diagnostic: Diagnostic) -> String {
        DiagnosticRenderer.render(diagnostic, sourceLines: diagnostic.location.flatMap { sourceLines[$0.file] })
    }
}

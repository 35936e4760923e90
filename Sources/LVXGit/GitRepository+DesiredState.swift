internal import CLibGit2
public import LVXCore

extension GitRepository: DesiredStateSource {
    /// The commit id `revision` names (any revparse spec: `HEAD`, `main~2`, a tag, an id prefix).
    ///
    /// The corresponding C functions are `git_revparse_single` and `git_object_peel`.
    /// - Throws: ``RepositoryError`` for an unknown revision, a revision that is not a commit, or a
    ///   branch without commits.
    public func resolve(_ revision: String) throws(RepositoryError) -> String {
        do {
            return try locked { repo throws(GitError) in try commitID(revision, repo).description }
        } catch {
            throw error.repositoryError
        }
    }

    /// The content of `path` in the commit `commit` names, or `nil` when it has no such file.
    ///
    /// Reads the committed blob, never the working tree.
    /// The corresponding C functions are `git_tree_entry_bypath` and `git_blob_lookup`.
    public func file(_ path: String, at commit: String) throws(RepositoryError) -> [UInt8]? {
        do {
            return try locked { repo throws(GitError) in
                let tree = try Commit.lookup(repo, try commitID(commit, repo)).tree()
                guard let entry = try tree.entry(at: try Self.checkedPath(path)) else { return nil }
                guard entry.type == GIT_OBJECT_BLOB else {
                    throw GitError(.invalidPath, "'\(path)' is a directory, not a file, at \(commit)")
                }
                return try Blob.lookup(repo, entry.id).bytes
            }
        } catch {
            throw error.repositoryError
        }
    }

    /// The paths (`directory/name`) of the files directly inside `directory` at `commit`, sorted.
    ///
    /// `""` or `"."` lists the top level. Subdirectories, symbolic links and submodules are left out.
    public func list(_ directory: String, at commit: String) throws(RepositoryError) -> [String] {
        do {
            return try locked { repo throws(GitError) in
                let root = try Commit.lookup(repo, try commitID(commit, repo)).tree()
                let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
                let prefix: String
                let children: [(name: String, id: ObjectID, mode: git_filemode_t)]
                if trimmed.isEmpty || trimmed == "." {
                    prefix = ""
                    children = root.children
                } else {
                    guard let entry = try root.entry(at: try Self.checkedPath(trimmed)) else { return [] }
                    guard entry.type == GIT_OBJECT_TREE else {
                        throw GitError(.invalidPath, "'\(directory)' is a file, not a directory, at \(commit)")
                    }
                    prefix = trimmed + "/"
                    children = try Tree.lookup(repo, entry.id).children
                }
                return children.filter { $0.mode == GIT_FILEMODE_BLOB || $0.mode == GIT_FILEMODE_BLOB_EXECUTABLE }
                    .map { prefix + $0.name }
                    .sorted()
            }
        } catch {
            throw error.repositoryError
        }
    }

    /// Resolves `revision` to a commit id; the lock must be held.
    func commitID(_ revision: String, _ repo: RepositoryPointer) throws(GitError) -> ObjectID {
        if let id = ObjectID(hex: revision) {
            // A full id is looked up directly, so a missing object gets the same clear message.
            if (try? Commit.lookup(repo, id)) != nil { return id }
        }
        switch GitObject.revparse(repo, revision) {
        case .success(let object):
            guard let id = object.peeledCommitID() else {
                throw GitError(.unknownRevision, "revision '\(revision)' is not a commit in \(path)")
            }
            return id
        case .failure(let failure):
            if git_repository_head_unborn(repo.raw) == 1, revision.hasPrefix("HEAD") || isCurrentBranch(revision, repo)
            {
                let branch = (try? currentBranch(repo)).map { Self.shortName($0) } ?? "HEAD"
                throw GitError(
                    .unbornBranch,
                    "the branch '\(branch)' in \(path) has no commits yet",
                    hint: "commit the desired state first"
                )
            }
            var error = GitError(
                .unknownRevision,
                "unknown revision '\(revision)' in \(path)",
                hint: "use a branch, tag or commit id that exists there",
                function: failure.function,
                libraryCode: failure.libraryCode
            )
            if failure.libraryCode == GIT_EAMBIGUOUS.rawValue {
                error.message = "ambiguous revision '\(revision)' in \(path)"
                error.hint = "give more digits of the commit id"
            }
            throw error
        }
    }

    private func isCurrentBranch(_ revision: String, _ repo: RepositoryPointer) -> Bool {
        guard let branch = try? currentBranch(repo) else { return false }
        return revision == branch || revision == Self.shortName(branch)
    }

    /// `main` for `refs/heads/main`.
    static func shortName(_ branch: String) -> String {
        branch.hasPrefix("refs/heads/") ? String(branch.dropFirst("refs/heads/".count)) : branch
    }

    /// Checks that `path` is a relative slash-separated path inside the repository.
    static func checkedPath(_ path: String) throws(GitError) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        let bad =
            path.isEmpty || path.contains("\0") || path.contains("\\")
            || components.contains { $0.isEmpty || $0 == "." || $0 == ".." || $0.lowercased() == ".git" }
        guard !bad else {
            throw GitError(
                .invalidPath,
                "'\(path)' is not a valid repository path",
                hint: "use a relative path like `units/shed.yaml`, without `.`, `..` or `.git` parts"
            )
        }
        return path
    }
}

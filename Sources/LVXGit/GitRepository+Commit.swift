internal import CLibGit2
internal import Foundation
internal import Glibc
public import LVXCore

extension GitRepository: HistoryStore {
    /// How many times a commit is rebuilt when the branch moves under it.
    static let maxCommitAttempts = 10

    /// Commits `files` on top of the current branch's tip, leaving every other path as it is.
    ///
    /// - The tree is the tip's tree with exactly these paths upserted (`git_tree_create_updated`).
    /// - The branch is updated with compare-and-swap (`git_reference_create_matching` with the tip
    ///   it was built on). If the branch moved meanwhile, the commit is rebuilt on the new tip, at
    ///   most ``maxCommitAttempts`` times; the other commit is kept.
    /// - In a non-bare repository the files are then written into the working tree and their
    ///   index entries updated, so `git status` stays clean. A path whose working-tree file or
    ///   index entry holds uncommitted changes is refused before anything is committed.
    ///
    /// - Parameters:
    ///   - files: repository path -> content.
    ///   - message: the commit message.
    ///   - author: `Name <email>` or just `Name` (email `lvx@localhost`); author and committer.
    ///   - time: the commit time.
    /// - Returns: the new commit id.
    /// - Throws: ``RepositoryError`` for a detached HEAD, uncommitted changes to a path being
    ///   written, an invalid path, a branch that kept moving, or a libgit2 or file-system failure.
    public func commit(
        files: [String: [UInt8]],
        message: String,
        author: String,
        time: WallTime
    )
        throws(RepositoryError) -> String
    {
        do {
            let identity = Self.identity(from: author)
            return try commit(
                files: files,
                message: message,
                author: GitIdentity(name: identity.name, email: identity.email),
                time: time
            )
        } catch {
            throw error.repositoryError
        }
    }

    /// Commits `files` on top of the current branch's tip as ``commit(files:message:author:time:)``
    /// does, naming `author` and `committer`, and signing the commit when a `signer` is given.
    ///
    /// With a signer, the commit object is built with `git_commit_create_buffer`, `signer` is called
    /// with those bytes, and its armored signature is stored in the commit's `gpgsig` header by
    /// `git_commit_create_with_signature`: the layout `git commit -S` writes, so `git verify-commit`
    /// and `git log --show-signature` check it (with `gpg.format=ssh` for an SSH signature). The
    /// branch then moves by the same compare-and-swap; when it moved meanwhile, the commit is rebuilt
    /// on the new tip and `signer` is called again for the new bytes.
    ///
    /// - Important: `signer` runs while this repository's lock is held; it must not call back into
    ///   this `GitRepository`. It may take as long as a passphrase prompt takes.
    /// - Parameters:
    ///   - files: repository path -> content.
    ///   - message: the commit message.
    ///   - author: the author; ``GitIdentity/agent`` (`lvx <lvx@localhost>`) unless given.
    ///   - committer: the committer; the author when `nil`.
    ///   - time: the author and committer time.
    ///   - signer: signs the commit buffer and returns the armored signature
    ///     (`-----BEGIN SSH SIGNATURE-----` …); `nil` for an unsigned commit.
    /// - Returns: the new commit id.
    /// - Throws: ``GitError``: those of ``commit(files:message:author:time:)``, and ``GitError/Code/signingFailed``
    ///   when `signer` throws or returns no signature.
    public func commit(
        files: [String: [UInt8]],
        message: String,
        author: GitIdentity = .agent,
        committer: GitIdentity? = nil,
        time: WallTime,
        signer: ((_ commitBuffer: [UInt8]) throws -> String)? = nil
    ) throws(GitError) -> String {
        try locked { repo throws(GitError) in
            try commitLocked(
                files: files,
                message: message,
                author: author,
                committer: committer ?? author,
                time: time,
                signer: signer,
                repo
            )
        }
    }

    private func commitLocked(
        files: [String: [UInt8]],
        message: String,
        author: GitIdentity,
        committer: GitIdentity,
        time: WallTime,
        signer: ((_ commitBuffer: [UInt8]) throws -> String)?,
        _ repo: RepositoryPointer
    ) throws(GitError) -> String {
        var paths: [String] = []
        for path in files.keys { paths.append(try Self.checkedPath(path)) }
        paths.sort()
        let branch = try currentBranch(repo)
        let authorSignature = try Signature(
            name: author.name,
            email: author.email,
            seconds: time.secondsSince1970,
            offsetMinutes: time.utcOffsetMinutes
        )
        let committerSignature = try Signature(
            name: committer.name,
            email: committer.email,
            seconds: time.secondsSince1970,
            offsetMinutes: time.utcOffsetMinutes
        )
        // The identity libgit2 writes into the reflog entries of this update.
        try check(git_repository_set_ident(repo.raw, committer.name, committer.email), "git_repository_set_ident")
        var blobs: [String: ObjectID] = [:]
        for path in paths { blobs[path] = try Blob.write(repo, files[path] ?? []) }
        let text = message.hasSuffix("\n") ? message : message + "\n"
        let summary = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""

        for attempt in 1...Self.maxCommitAttempts {
            let tip = try tip(of: branch, repo)
            // No base tree on an unborn branch (writing an empty tree would leave it unreachable).
            let base = try tip.map { tip throws(GitError) in try Commit.lookup(repo, tip).tree().id }
            if workingDirectory != nil { try refuseLocalChanges(paths, blobs: blobs, base: base, repo) }
            let commitID = try writeCommit(
                tree: try updatedTree(base: base, blobs: blobs, repo),
                parent: tip,
                author: authorSignature,
                committer: committerSignature,
                message: text,
                signer: signer,
                repo
            )
            hookWhileLocked?(attempt)
            guard try swap(branch, to: commitID, expecting: tip, log: "commit: \(summary)", repo) else {
                if attempt < Self.maxCommitAttempts { usleep(useconds_t(1_000 * attempt)) }
                continue
            }
            if let workingDirectory {
                try syncWorkingTree(workingDirectory, paths: paths, files: files, blobs: blobs, commit: commitID, repo)
            }
            return commitID.description
        }
        throw GitError(
            .branchKeptMoving,
            "the branch '\(Self.shortName(branch))' in \(path) kept moving; gave up after \(Self.maxCommitAttempts) attempts",
            hint: "run again when nothing else is committing to it"
        )
    }

    /// The tree `base` with `blobs` upserted as regular files.
    ///
    /// The corresponding C function is `git_tree_create_updated`.
    private func updatedTree(
        base: ObjectID?,
        blobs: [String: ObjectID],
        _ repo: RepositoryPointer
    ) throws(GitError)
        -> ObjectID
    {
        let cPaths = blobs.keys.sorted().map { (path: $0, c: strdup($0)) }
        defer { cPaths.forEach { free($0.c) } }
        var updates = cPaths.map { entry in
            git_tree_update(
                action: GIT_TREE_UPDATE_UPSERT,
                id: blobs[entry.path]?.oid ?? git_oid(),
                filemode: GIT_FILEMODE_BLOB,
                path: UnsafePointer(entry.c)
            )
        }
        var out = git_oid()
        let code: Int32
        if let base {
            let baseTree = try Tree.lookup(repo, base)
            code = git_tree_create_updated(&out, repo.raw, baseTree.pointer, updates.count, &updates)
        } else {
            code = git_tree_create_updated(&out, repo.raw, nil, updates.count, &updates)
        }
        try check(code, "git_tree_create_updated")
        return ObjectID(out)
    }

    /// Writes a commit object without moving any ref, signed by `signer` when there is one.
    ///
    /// The corresponding C functions are `git_commit_create`, or `git_commit_create_buffer` and
    /// `git_commit_create_with_signature`.
    private func writeCommit(
        tree: ObjectID,
        parent: ObjectID?,
        author: borrowing Signature,
        committer: borrowing Signature,
        message: String,
        signer: ((_ commitBuffer: [UInt8]) throws -> String)?,
        _ repo: RepositoryPointer
    ) throws(GitError) -> ObjectID {
        let treeObject = try Tree.lookup(repo, tree)
        func create(_ parents: inout [OpaquePointer?]) throws(GitError) -> ObjectID {
            guard let signer else {
                var out = git_oid()
                let code = git_commit_create(
                    &out,
                    repo.raw,
                    nil,
                    author.pointer,
                    committer.pointer,
                    nil,
                    message,
                    treeObject.pointer,
                    parents.count,
                    &parents
                )
                try check(code, "git_commit_create")
                return ObjectID(out)
            }
            return try signedCommit(
                author: author,
                committer: committer,
                message: message,
                tree: treeObject,
                parents: &parents,
                signer: signer,
                repo
            )
        }
        guard let parent else {
            var none: [OpaquePointer?] = []
            return try create(&none)
        }
        let parentCommit = try Commit.lookup(repo, parent)  // alive, and so valid, to the end of the scope
        var parents: [OpaquePointer?] = [parentCommit.pointer]
        return try create(&parents)
    }

    /// Builds the commit buffer, has `signer` sign it, and writes the commit with the signature in
    /// its `gpgsig` header.
    ///
    /// The corresponding C functions are `git_commit_create_buffer` and
    /// `git_commit_create_with_signature`.
    private func signedCommit(
        author: borrowing Signature,
        committer: borrowing Signature,
        message: String,
        tree: borrowing Tree,
        parents: inout [OpaquePointer?],
        signer: (_ commitBuffer: [UInt8]) throws -> String,
        _ repo: RepositoryPointer
    ) throws(GitError) -> ObjectID {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = git_commit_create_buffer(
            &buffer,
            repo.raw,
            author.pointer,
            committer.pointer,
            nil,
            message,
            tree.pointer,
            parents.count,
            &parents
        )
        try check(code, "git_commit_create_buffer")
        guard let start = buffer.ptr else { throw libraryError(-1, "git_commit_create_buffer") }
        let content = Array(UnsafeRawBufferPointer(start: start, count: buffer.size))
        var signature: String
        do {
            signature = try signer(content)
        } catch {
            throw GitError(
                .signingFailed,
                "could not sign the commit in \(path): \(error)",
                hint: "check the signing key, or commit without signing"
            )
        }
        // git writes the signature's lines without a final newline; libgit2 would add an empty line.
        while signature.hasSuffix("\n") || signature.hasSuffix("\r") { signature.removeLast() }
        guard !signature.isEmpty else {
            throw GitError(.signingFailed, "could not sign the commit in \(path): the signer returned no signature")
        }
        var out = git_oid()
        try check(
            git_commit_create_with_signature(&out, repo.raw, start, signature, nil),
            "git_commit_create_with_signature"
        )
        return ObjectID(out)
    }

    /// Points `branch` at `commit` if it still points at `expected` (or still does not exist).
    ///
    /// The corresponding C function is `git_reference_create_matching`.
    /// - Returns: `false` when the branch moved (or its lock was held) and the caller should retry.
    func swap(
        _ branch: String,
        to commit: ObjectID,
        expecting expected: ObjectID?,
        log: String,
        _ repo: RepositoryPointer
    ) throws(GitError) -> Bool {
        var new = commit.oid
        var reference: OpaquePointer?
        let code: Int32
        if var old = expected?.oid {
            code = git_reference_create_matching(&reference, repo.raw, branch, &new, 1, &old, log)
        } else {
            code = git_reference_create_matching(&reference, repo.raw, branch, &new, 0, nil, log)
        }
        git_reference_free(reference)
        if code == GIT_EMODIFIED.rawValue || code == GIT_EEXISTS.rawValue || code == GIT_ELOCKED.rawValue {
            return false
        }
        try check(code, "git_reference_create_matching")
        return true
    }

    /// Refuses when a path to be written has changes that are not in `base` and would be lost.
    ///
    /// A working-tree file or index entry is fine when it equals the committed version or the new
    /// content (the latter happens after an interrupted earlier run).
    private func refuseLocalChanges(
        _ paths: [String],
        blobs: [String: ObjectID],
        base: ObjectID?,
        _ repo: RepositoryPointer
    ) throws(GitError) {
        guard let workingDirectory else { return }
        let index = try GitIndex.open(repo)
        for path in paths {
            var committed: ObjectID?
            if let base { committed = try Tree.lookup(repo, base).entryID(at: path) }
            let acceptable = Set([committed, blobs[path]].compactMap { $0 })
            if let staged = index.stagedID(at: path), !acceptable.contains(staged) {
                throw uncommitted(path, where: "index (staged)")
            }
            try refuseLinks(in: path, under: workingDirectory)
            let file = workingDirectory + path
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }  // absent: nothing to lose
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw GitError(
                    .invalidPath,
                    "'\(path)' in the working tree of \(self.path) is not a regular file; lvx will not replace it",
                    hint: "move it out of the way"
                )
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw GitError(.fileSystem, "cannot read '\(file)'", hint: "check its permissions")
            }
            if !acceptable.contains(try ObjectID.blob(hashing: [UInt8](data))) {
                throw uncommitted(path, where: "working tree")
            }
        }
    }

    /// Refuses a path whose parent directories in the working tree are symbolic links or files,
    /// so a committed symlink can never make lvx write outside the repository.
    private func refuseLinks(in path: String, under workingDirectory: String) throws(GitError) {
        var prefix = String(workingDirectory.dropLast())  // the working directory ends in "/"
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component  // no trailing slash: lstat must not follow a final symlink
            var info = stat()
            guard lstat(prefix, &info) == 0 else { return }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw GitError(
                    .invalidPath,
                    "'\(prefix)' is not a directory; lvx will not write '\(path)' through it",
                    hint: "replace it with a plain directory"
                )
            }
        }
    }

    private func uncommitted(_ path: String, where place: String) -> GitError {
        GitError(
            .uncommittedChanges,
            "'\(path)' has uncommitted changes in the \(place) of \(self.path); lvx will not overwrite them",
            hint: "commit or discard them (git diff HEAD -- \(path)), then run again"
        )
    }

    /// Writes the committed files into the working tree and stages exactly those paths.
    ///
    /// The corresponding C functions are `git_index_add` and `git_index_write`.
    private func syncWorkingTree(
        _ workingDirectory: String,
        paths: [String],
        files: [String: [UInt8]],
        blobs: [String: ObjectID],
        commit: ObjectID,
        _ repo: RepositoryPointer
    ) throws(GitError) {
        func failed(_ what: String) -> GitError {
            GitError(
                .fileSystem,
                "committed \(commit) but could not update the working tree of \(path): \(what)",
                hint: "run `git checkout HEAD -- \(paths.joined(separator: " "))` there"
            )
        }
        do {
            for path in paths {
                try Self.writeAtomically(workingDirectory + path, files[path] ?? [])
            }
        } catch {
            throw failed(error.message)
        }
        let index = try GitIndex.open(repo)
        for path in paths {
            var info = stat()
            guard lstat(workingDirectory + path, &info) == 0, let blob = blobs[path] else {
                throw failed("cannot stat '\(path)': errno \(errno)")
            }
            var entry = git_index_entry()
            entry.ctime = git_index_time(
                seconds: Int32(truncatingIfNeeded: info.st_ctim.tv_sec),
                nanoseconds: UInt32(truncatingIfNeeded: info.st_ctim.tv_nsec)
            )
            entry.mtime = git_index_time(
                seconds: Int32(truncatingIfNeeded: info.st_mtim.tv_sec),
                nanoseconds: UInt32(truncatingIfNeeded: info.st_mtim.tv_nsec)
            )
            entry.dev = UInt32(truncatingIfNeeded: info.st_dev)
            entry.ino = UInt32(truncatingIfNeeded: info.st_ino)
            entry.mode = GIT_FILEMODE_BLOB.rawValue
            entry.uid = info.st_uid
            entry.gid = info.st_gid
            entry.file_size = UInt32(truncatingIfNeeded: info.st_size)
            entry.id = blob.oid
            let code = path.withCString { cPath in
                entry.path = cPath
                return git_index_add(index.pointer, &entry)
            }
            try check(code, "git_index_add")
        }
        try check(git_index_write(index.pointer), "git_index_write")
    }

    /// Writes `bytes` to `file` through a temporary file and a rename, creating parent directories.
    private static func writeAtomically(_ file: String, _ bytes: [UInt8]) throws(GitError) {
        let directory = (file as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw GitError(.fileSystem, "cannot create '\(directory)': \(error.localizedDescription)")
        }
        let temporary = file + ".lvx-\(getpid())-tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GitError(.fileSystem, "cannot create '\(temporary)': errno \(errno)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw GitError(.fileSystem, "cannot write '\(temporary)': errno \(code)")
            }
            written += result
        }
        close(fd)
        guard rename(temporary, file) == 0 else {
            let code = errno
            unlink(temporary)
            throw GitError(.fileSystem, "cannot rename '\(temporary)' to '\(file)': errno \(code)")
        }
    }

    /// The name lvx's own commits carry as author and committer (`commit(author: "lvx")`).
    public static let agentName = "lvx"
    /// The email lvx's own commits carry as author and committer, and the default email.
    public static let agentEmail = "lvx@localhost"

    /// Whether `commit` was made by lvx: its author *and* committer are both exactly
    /// `lvx <lvx@localhost>`.
    ///
    /// The committer is checked as well as the author because a person who amends, rebases or
    /// cherry-picks an lvx commit keeps its author but becomes its committer, so their edit is
    /// not mistaken for lvx's. A message trailer would not do that: an amend keeps the message.
    static func isAgentCommit(_ commit: borrowing Commit) -> Bool {
        let author = commit.author
        let committer = commit.committer
        return author.name == agentName && author.email == agentEmail && committer.name == agentName
            && committer.email == agentEmail
    }

    /// Splits `Name <email>` into name and email; email `lvx@localhost` when none is given.
    static func identity(from author: String) -> (name: String, email: String) {
        var name = author
        var email = agentEmail
        if let open = author.lastIndex(of: "<"), let close = author.lastIndex(of: ">"), open < close {
            let inner = author[author.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !inner.isEmpty { email = inner }
            name = String(author[..<open])
        }
        name = name.filter { !"<>\n\r\0".contains($0) }.trimmingCharacters(in: .whitespaces)
        email = email.filter { !"<>\n\r\0 ".contains($0) }
        return (name.isEmpty ? agentName : name, email.isEmpty ? agentEmail : email)
    }
}

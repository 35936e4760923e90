internal import CLibGit2
internal import Glibc

// Owners of libgit2 handles. libgit2 imports every handle as `OpaquePointer`, so a tree could be
// passed where a commit is expected; these non-copyable wrappers give each kind its own type and
// free the handle exactly once. They are used only inside a `GitRepository` lock scope.

/// The raw `git_repository*`, typed so it cannot be confused with another handle; not an owner.
struct RepositoryPointer {
    let raw: OpaquePointer
}

/// A 20-byte git object id.
struct ObjectID: Hashable, CustomStringConvertible {
    var oid: git_oid

    init(_ oid: git_oid) { self.oid = oid }

    init?(_ pointer: UnsafePointer<git_oid>?) {
        guard let pointer else { return nil }
        oid = pointer.pointee
    }

    /// Parses exactly 40 hex digits.
    init?(hex: String) {
        guard hex.utf8.count == Int(GIT_OID_HEXSZ), hex.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        var oid = git_oid()
        guard git_oid_fromstrn(&oid, hex, hex.utf8.count) == 0 else { return nil }
        self.oid = oid
    }

    /// 40 lower-case hex digits.
    var description: String {
        withUnsafeBytes(of: oid.id) { bytes in
            bytes.map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
        }
    }

    static func == (lhs: ObjectID, rhs: ObjectID) -> Bool {
        withUnsafeBytes(of: lhs.oid.id) { a in withUnsafeBytes(of: rhs.oid.id) { b in a.elementsEqual(b) } }
    }

    func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: oid.id) { hasher.combine(bytes: $0) }
    }

    /// The id a blob with `bytes` has, without writing it.
    ///
    /// The corresponding C function is `git_odb_hash`.
    static func blob(hashing bytes: [UInt8]) throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check(git_odb_hash(&oid, bytes, bytes.count, GIT_OBJECT_BLOB), "git_odb_hash")
        return ObjectID(oid)
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}

/// An owned `git_commit*`.
struct Commit: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_commit_free(pointer) }

    /// The corresponding C function is `git_commit_lookup`.
    static func lookup(_ repo: RepositoryPointer, _ id: ObjectID) throws(GitError) -> Commit {
        var out: OpaquePointer?
        var oid = id.oid
        try check(git_commit_lookup(&out, repo.raw, &oid), "git_commit_lookup")
        guard let out else { throw libraryError(-1, "git_commit_lookup") }
        return Commit(pointer: out)
    }

    var id: ObjectID { ObjectID(git_commit_id(pointer).pointee) }
    var treeID: ObjectID { ObjectID(git_commit_tree_id(pointer).pointee) }

    var parentIDs: [ObjectID] {
        (0..<git_commit_parentcount(pointer)).compactMap { ObjectID(git_commit_parent_id(pointer, $0)) }
    }

    /// The committer time.
    var time: (seconds: Int64, offsetMinutes: Int) {
        (Int64(git_commit_time(pointer)), Int(git_commit_time_offset(pointer)))
    }

    /// The full message, or the empty string.
    var message: String { git_commit_message(pointer).map { String(cString: $0) } ?? "" }

    /// The author's name and email.
    ///
    /// The corresponding C function is `git_commit_author`.
    var author: (name: String, email: String) { Self.identity(git_commit_author(pointer)) }

    /// The committer's name and email: who last wrote the commit (an amend or a rebase changes it).
    ///
    /// The corresponding C function is `git_commit_committer`.
    var committer: (name: String, email: String) { Self.identity(git_commit_committer(pointer)) }

    private static func identity(_ signature: UnsafePointer<git_signature>?) -> (name: String, email: String) {
        (
            signature?.pointee.name.map { String(cString: $0) } ?? "",
            signature?.pointee.email.map { String(cString: $0) } ?? ""
        )
    }

    /// The corresponding C function is `git_commit_tree`.
    func tree() throws(GitError) -> Tree {
        var out: OpaquePointer?
        try check(git_commit_tree(&out, pointer), "git_commit_tree")
        guard let out else { throw libraryError(-1, "git_commit_tree") }
        return Tree(pointer: out)
    }
}

/// An owned `git_tree*`.
struct Tree: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_tree_free(pointer) }

    /// The corresponding C function is `git_tree_lookup`.
    static func lookup(_ repo: RepositoryPointer, _ id: ObjectID) throws(GitError) -> Tree {
        var out: OpaquePointer?
        var oid = id.oid
        try check(git_tree_lookup(&out, repo.raw, &oid), "git_tree_lookup")
        guard let out else { throw libraryError(-1, "git_tree_lookup") }
        return Tree(pointer: out)
    }

    var id: ObjectID { ObjectID(git_tree_id(pointer).pointee) }

    /// The entry at a slash-separated path, or `nil` when nothing is there.
    ///
    /// The corresponding C function is `git_tree_entry_bypath`.
    func entry(at path: String) throws(GitError) -> TreeEntry? {
        var out: OpaquePointer?
        let code = git_tree_entry_bypath(&out, pointer, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_tree_entry_bypath")
        guard let out else { throw libraryError(-1, "git_tree_entry_bypath") }
        return TreeEntry(pointer: out)
    }

    /// The id of the object at `path`, or `nil` when nothing is there.
    func entryID(at path: String) throws(GitError) -> ObjectID? {
        guard let entry = try entry(at: path) else { return nil }
        return entry.id
    }

    /// The direct children: name, id, and file mode.
    var children: [(name: String, id: ObjectID, mode: git_filemode_t)] {
        (0..<git_tree_entrycount(pointer)).compactMap { index in
            guard let entry = git_tree_entry_byindex(pointer, index), let name = git_tree_entry_name(entry),
                let id = ObjectID(git_tree_entry_id(entry))
            else { return nil }
            return (String(cString: name), id, git_tree_entry_filemode(entry))
        }
    }
}

/// An owned `git_tree_entry*` (from `git_tree_entry_bypath`).
struct TreeEntry: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_tree_entry_free(pointer) }

    var id: ObjectID { ObjectID(git_tree_entry_id(pointer).pointee) }
    var type: git_object_t { git_tree_entry_type(pointer) }
}

/// An owned `git_blob*`.
struct Blob: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_blob_free(pointer) }

    /// The corresponding C function is `git_blob_lookup`.
    static func lookup(_ repo: RepositoryPointer, _ id: ObjectID) throws(GitError) -> Blob {
        var out: OpaquePointer?
        var oid = id.oid
        try check(git_blob_lookup(&out, repo.raw, &oid), "git_blob_lookup")
        guard let out else { throw libraryError(-1, "git_blob_lookup") }
        return Blob(pointer: out)
    }

    /// Writes `bytes` as a blob.
    ///
    /// The corresponding C function is `git_blob_create_from_buffer`.
    static func write(_ repo: RepositoryPointer, _ bytes: [UInt8]) throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check(git_blob_create_from_buffer(&oid, repo.raw, bytes, bytes.count), "git_blob_create_from_buffer")
        return ObjectID(oid)
    }

    var bytes: [UInt8] {
        let size = Int(git_blob_rawsize(pointer))
        guard size > 0, let raw = git_blob_rawcontent(pointer) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }
}

/// An owned `git_object*` of any kind (from `git_revparse_single`).
struct GitObject: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_object_free(pointer) }

    /// The corresponding C function is `git_revparse_single`; the raw code is returned on failure.
    static func revparse(_ repo: RepositoryPointer, _ spec: String) -> Result<GitObject, GitError> {
        var out: OpaquePointer?
        let code = git_revparse_single(&out, repo.raw, spec)
        guard code == 0, let out else { return .failure(libraryError(code, "git_revparse_single")) }
        return .success(GitObject(pointer: out))
    }

    /// The commit this object leads to, or `nil` if it does not lead to one (a tree, a blob).
    ///
    /// The corresponding C function is `git_object_peel`.
    func peeledCommitID() -> ObjectID? {
        var out: OpaquePointer?
        guard git_object_peel(&out, pointer, GIT_OBJECT_COMMIT) == 0, let out else { return nil }
        defer { git_object_free(out) }
        return ObjectID(git_object_id(out))
    }
}

/// An owned `git_reference*`.
struct Reference: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_reference_free(pointer) }

    /// The corresponding C function is `git_reference_lookup`.
    static func lookup(_ repo: RepositoryPointer, _ name: String) throws(GitError) -> Reference {
        var out: OpaquePointer?
        try check(git_reference_lookup(&out, repo.raw, name), "git_reference_lookup")
        guard let out else { throw libraryError(-1, "git_reference_lookup") }
        return Reference(pointer: out)
    }

    /// The branch a symbolic reference points at, or `nil` for a direct one.
    var symbolicTarget: String? {
        guard git_reference_type(pointer) == GIT_REFERENCE_SYMBOLIC else { return nil }
        return git_reference_symbolic_target(pointer).map { String(cString: $0) }
    }

    /// The object a direct reference points at, or `nil` for a symbolic one.
    var target: ObjectID? { ObjectID(git_reference_target(pointer)) }
}

/// An owned `git_signature*`.
struct Signature: ~Copyable {
    let pointer: UnsafeMutablePointer<git_signature>

    deinit { git_signature_free(pointer) }

    /// The corresponding C function is `git_signature_new`.
    init(name: String, email: String, seconds: Int64, offsetMinutes: Int) throws(GitError) {
        var out: UnsafeMutablePointer<git_signature>?
        try check(
            git_signature_new(&out, name, email, git_time_t(seconds), Int32(offsetMinutes)),
            "git_signature_new"
        )
        guard let out else { throw libraryError(-1, "git_signature_new") }
        pointer = out
    }
}

/// An owned `git_index*` (the repository's index file).
struct GitIndex: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_index_free(pointer) }

    /// Opens the repository's index and re-reads it from disk.
    ///
    /// The corresponding C functions are `git_repository_index` and `git_index_read`.
    static func open(_ repo: RepositoryPointer) throws(GitError) -> GitIndex {
        var out: OpaquePointer?
        try check(git_repository_index(&out, repo.raw), "git_repository_index")
        guard let out else { throw libraryError(-1, "git_repository_index") }
        let index = GitIndex(pointer: out)
        try check(git_index_read(out, 1), "git_index_read")
        return index
    }

    /// The blob id staged at `path` (stage 0), or `nil`.
    ///
    /// The corresponding C function is `git_index_get_bypath`.
    func stagedID(at path: String) -> ObjectID? {
        guard let entry = git_index_get_bypath(pointer, path, 0) else { return nil }
        return ObjectID(entry.pointee.id)
    }
}

/// An owned `git_revwalk*`.
struct Revwalk: ~Copyable {
    let pointer: OpaquePointer

    deinit { git_revwalk_free(pointer) }

    /// The corresponding C functions are `git_revwalk_new` and `git_revwalk_sorting`.
    init(_ repo: RepositoryPointer, sorting: git_sort_t) throws(GitError) {
        var out: OpaquePointer?
        try check(git_revwalk_new(&out, repo.raw), "git_revwalk_new")
        guard let out else { throw libraryError(-1, "git_revwalk_new") }
        let sorted = git_revwalk_sorting(out, sorting.rawValue)
        guard sorted == 0 else {
            git_revwalk_free(out)
            throw libraryError(sorted, "git_revwalk_sorting")
        }
        pointer = out
    }

    /// The next commit id, or `nil` at the end.
    ///
    /// The corresponding C function is `git_revwalk_next`.
    func next() throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let code = git_revwalk_next(&oid, pointer)
        if code == GIT_ITEROVER.rawValue { return nil }
        try check(code, "git_revwalk_next")
        return ObjectID(oid)
    }
}

/// Calls `body` with `strings` as a `git_strarray` (refspecs for a fetch or a push), whose
/// C strings live until `body` returns.
func withStrarray(_ strings: [String], _ body: (inout git_strarray) -> Int32) -> Int32 {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return body(&array)
    }
}

internal import CGitShims
internal import CLibGit2
internal import Foundation

/// What ``GitRepository/pack()`` did.
public struct GitPackResult: Sendable, Hashable {
    /// Objects written into the new pack (0 when there was nothing to pack).
    public var packedObjects: Int
    /// Loose object files removed because a pack now holds them.
    public var removedLooseObjects: Int

    /// Creates a result.
    public init(packedObjects: Int, removedLooseObjects: Int) {
        self.packedObjects = packedObjects
        self.removedLooseObjects = removedLooseObjects
    }
}

extension GitRepository {
    /// The number of loose object files (`objects/xx/…`); a reason to ``pack()`` when it grows.
    public func looseObjectCount() throws(GitError) -> Int {
        try locked { _ throws(GitError) in try looseObjects().count }
    }

    /// Packs every object reachable from the refs (and HEAD) into one new pack in `objects/pack`,
    /// then removes the loose objects that a pack holds (like `git prune-packed`).
    ///
    /// Unreachable loose objects (a commit abandoned by a compare-and-swap retry, a blob staged
    /// but never committed) are left alone. libgit2 has no `gc`; this is the part lvx needs.
    /// The corresponding C functions are `git_packbuilder_insert_walk`, `git_packbuilder_insert_recur`,
    /// `git_packbuilder_write` and, for the pruning, `git_odb_backend_pack` and `git_odb_exists`.
    public func pack() throws(GitError) -> GitPackResult {
        try locked { repo throws(GitError) in
            var builder: OpaquePointer?
            try check(git_packbuilder_new(&builder, repo.raw), "git_packbuilder_new")
            defer { git_packbuilder_free(builder) }
            let walk = try Revwalk(repo, sorting: GIT_SORT_NONE)
            var targets: [ObjectID] = []
            try forEachReference(repo) { target in targets.append(target) }
            if git_repository_head_unborn(repo.raw) == 0, let head = try? Reference.lookup(repo, "HEAD"),
                let target = head.target
            {
                targets.append(target)  // a detached HEAD
            }
            for target in targets {
                // Commits start the walk; tags, trees and blobs named by a ref go in directly.
                if git_revwalk_push(walk.pointer, [target.oid]) != 0 {
                    try check(git_packbuilder_insert_recur(builder, [target.oid], nil), "git_packbuilder_insert_recur")
                }
            }
            try check(git_packbuilder_insert_walk(builder, walk.pointer), "git_packbuilder_insert_walk")
            for target in targets {
                try check(git_packbuilder_insert_recur(builder, [target.oid], nil), "git_packbuilder_insert_recur")
            }
            let count = git_packbuilder_object_count(builder)
            guard count > 0 else { return GitPackResult(packedObjects: 0, removedLooseObjects: 0) }
            try check(git_packbuilder_write(builder, nil, 0, nil, nil), "git_packbuilder_write")
            let removed = try prunePacked()
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, repo.raw), "git_repository_odb")
            defer { git_odb_free(odb) }
            try check(git_odb_refresh(odb), "git_odb_refresh")
            return GitPackResult(packedObjects: count, removedLooseObjects: removed)
        }
    }

    /// Calls `body` with the target of every direct reference.
    ///
    /// The corresponding C functions are `git_reference_iterator_new` and `git_reference_next`.
    private func forEachReference(_ repo: RepositoryPointer, _ body: (ObjectID) -> Void) throws(GitError) {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_new(&iterator, repo.raw), "git_reference_iterator_new")
        defer { git_reference_iterator_free(iterator) }
        while true {
            var raw: OpaquePointer?
            let code = git_reference_next(&raw, iterator)
            if code == GIT_ITEROVER.rawValue { return }
            try check(code, "git_reference_next")
            guard let raw else { return }
            let reference = Reference(pointer: raw)
            if let target = reference.target { body(target) }
        }
    }

    /// Removes the loose objects some pack in `objects/pack` holds.
    private func prunePacked() throws(GitError) -> Int {
        let objects = gitDirectory + "objects"
        var packs: OpaquePointer?
        try check(lvx_git_odb_new_packs_only(&packs, objects), "git_odb_backend_pack")
        defer { git_odb_free(packs) }
        var removed = 0
        for loose in try looseObjects() where git_odb_exists(packs, [loose.id.oid]) == 1 {
            guard unlink(loose.file) == 0 else {
                throw GitError(.fileSystem, "cannot remove the packed loose object '\(loose.file)': errno \(errno)")
            }
            removed += 1
        }
        for directory in (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []
        where Self.isFanoutDirectory(directory) {
            rmdir(objects + "/" + directory)  // fails harmlessly when not empty
        }
        return removed
    }

    /// The loose object files under `objects/`, with their ids.
    private func looseObjects() throws(GitError) -> [(id: ObjectID, file: String)] {
        let objects = gitDirectory + "objects/"
        let manager = FileManager.default
        var result: [(id: ObjectID, file: String)] = []
        let fanout: [String]
        do {
            fanout = try manager.contentsOfDirectory(atPath: objects).filter(Self.isFanoutDirectory)
        } catch {
            throw GitError(.fileSystem, "cannot list '\(objects)': \(error.localizedDescription)")
        }
        for directory in fanout {
            for name in (try? manager.contentsOfDirectory(atPath: objects + directory)) ?? [] {
                if let id = ObjectID(hex: directory + name) {
                    result.append((id, objects + directory + "/" + name))
                }
            }
        }
        return result
    }

    private static func isFanoutDirectory(_ name: String) -> Bool {
        name.utf8.count == 2 && ObjectID(hex: name + String(repeating: "0", count: 38)) != nil
    }
}

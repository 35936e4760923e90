internal import CGitShims
internal import CLibGit2
internal import Foundation
internal import Glibc

/// What ``GitRepository/pack()`` did.
public struct GitPackResult: Sendable, Hashable {
    /// Objects written into the new pack (0 when there was nothing to pack).
    public var packedObjects: Int
    /// Loose object files removed because a pack now holds them.
    public var removedLooseObjects: Int
    /// Packs rolled up into one afterwards (0: the packs were already a geometric progression).
    public var rolledUpPacks: Int
    /// The packs in `objects/pack` afterwards.
    public var packs: Int

    /// Creates a result.
    public init(packedObjects: Int, removedLooseObjects: Int, rolledUpPacks: Int = 0, packs: Int = 0) {
        self.packedObjects = packedObjects
        self.removedLooseObjects = removedLooseObjects
        self.rolledUpPacks = rolledUpPacks
        self.packs = packs
    }
}

extension GitRepository {
    /// The number of loose object files (`objects/xx/…`); a reason to ``pack()`` when it grows.
    public func looseObjectCount() throws(GitError) -> Int {
        try locked { _ throws(GitError) in try looseObjects().count }
    }

    /// Packs the loose objects that no pack holds yet into one new pack in `objects/pack`, then
    /// removes the loose files a pack now holds (like `git prune-packed`).
    ///
    /// Packing is incremental: each call writes only what piled up since the last one (about 7
    /// objects per run), so its cost does not grow with history. Packing every reachable object
    /// instead took 12.5 s and 312 MB after a year of runs and left the old pack's copies behind.
    /// libgit2 has no `gc`; this is the part lvx needs.
    /// The corresponding C functions are `git_packbuilder_insert`, `git_packbuilder_write` and,
    /// for telling packed from loose, `git_odb_backend_pack` and `git_odb_exists`.
    public func pack() throws(GitError) -> GitPackResult {
        try locked { repo throws(GitError) in
            let objects = gitDirectory + "objects"
            var packs: OpaquePointer?
            try check(lvx_git_odb_new_packs_only(&packs, objects), "git_odb_backend_pack")
            defer { git_odb_free(packs) }
            let unpacked = try looseObjects().filter { git_odb_exists(packs, [$0.id.oid]) != 1 }
            guard !unpacked.isEmpty else {
                return GitPackResult(
                    packedObjects: 0,
                    removedLooseObjects: try prunePacked(),
                    packs: packIndexes().count
                )
            }
            let count = try writePack(unpacked.map(\.id), repo)
            let removed = try prunePacked()
            let rolled = try rollUp(repo)
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, repo.raw), "git_repository_odb")
            defer { git_odb_free(odb) }
            try check(git_odb_refresh(odb), "git_odb_refresh")
            return GitPackResult(
                packedObjects: count,
                removedLooseObjects: removed,
                rolledUpPacks: rolled,
                packs: packIndexes().count
            )
        }
    }

    /// Writes `ids` into one new pack; the number of objects written.
    ///
    /// The corresponding C functions are `git_packbuilder_insert` and `git_packbuilder_write`.
    private func writePack(_ ids: [ObjectID], _ repo: RepositoryPointer) throws(GitError) -> Int {
        var builder: OpaquePointer?
        try check(git_packbuilder_new(&builder, repo.raw), "git_packbuilder_new")
        defer { git_packbuilder_free(builder) }
        for id in ids { try check(git_packbuilder_insert(builder, [id.oid], nil), "git_packbuilder_insert") }
        let count = git_packbuilder_object_count(builder)
        try check(git_packbuilder_write(builder, nil, 0, nil, nil), "git_packbuilder_write")
        return count
    }

    /// The `.idx` paths of the packs in `objects/pack` that lvx may roll up: a pack with a `.keep`
    /// file is left alone, as git leaves it.
    private func packIndexes() -> [String] {
        let directory = gitDirectory + "objects/pack/"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("pack-") && $0.hasSuffix(".idx") }.map { directory + $0 }.filter { index in
            let base = String(index.dropLast(4))
            return FileManager.default.fileExists(atPath: base + ".pack")
                && !FileManager.default.fileExists(atPath: base + ".keep")
        }
    }

    /// Those packs with their object ids, the smallest first.
    private func packFiles() throws(GitError) -> [(index: String, ids: [ObjectID])] {
        var out: [(index: String, ids: [ObjectID])] = []
        for index in packIndexes() { out.append((index, try Self.objectIDs(inPack: index))) }
        return out.sorted { ($0.ids.count, $0.index) < ($1.ids.count, $1.index) }
    }

    /// The ids of the objects in the pack whose index is `index`.
    ///
    /// The corresponding C function is `git_odb_backend_one_pack`.
    static func objectIDs(inPack index: String) throws(GitError) -> [ObjectID] {
        final class Box { var ids: [ObjectID] = [] }
        let box = Box()
        let code = lvx_git_pack_foreach(
            index,
            { raw, payload in
                guard let raw, let payload else { return 0 }
                var oid = git_oid()
                withUnsafeMutableBytes(of: &oid) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: 20)) }
                Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue().ids.append(ObjectID(oid))
                return 0
            },
            Unmanaged.passUnretained(box).toOpaque()
        )
        try check(code, "git_odb_backend_one_pack")
        return box.ids
    }

    /// Keeps the packs a geometric progression, as `git repack --geometric=2` does: sorted by
    /// object count, each pack must hold at least twice the objects of the one before; the
    /// smallest packs that break that (and any larger pack less than twice their sum) are rolled
    /// up into one new pack, and removed.
    ///
    /// Each packing adds a small pack, so without this a year makes ~120 packs, and every object
    /// lookup searches all of them. With it there are about log2(packs) packs, and an object is
    /// rewritten about log2(packs) times over its life. Returns the number of packs rolled up.
    private func rollUp(_ repo: RepositoryPointer) throws(GitError) -> Int {
        let packs = try packFiles()
        guard packs.count > 1 else { return 0 }
        var split = 0
        for i in stride(from: packs.count - 1, to: 0, by: -1) where packs[i].ids.count < 2 * packs[i - 1].ids.count {
            split = i + 1
            break
        }
        guard split > 1 else { return 0 }
        var total = packs[0..<split].reduce(0) { $0 + $1.ids.count }
        while split < packs.count && packs[split].ids.count < 2 * total {
            total += packs[split].ids.count
            split += 1
        }
        let rolled = Array(packs[0..<split])
        var ids: [ObjectID] = []
        var seen: Set<ObjectID> = []
        for pack in rolled {
            for id in pack.ids where seen.insert(id).inserted { ids.append(id) }
        }
        _ = try writePack(ids, repo)
        // The new pack holds every object of the old ones before any of them goes.
        for pack in rolled {
            let base = String(pack.index.dropLast(4))
            for suffix in [".pack", ".idx", ".rev"] {
                unlink(base + suffix)
            }
        }
        return rolled.count
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

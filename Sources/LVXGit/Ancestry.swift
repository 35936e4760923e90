internal import CLibGit2
internal import Foundation

/// The commits reachable from a tip, walked here rather than by libgit2's revwalk so that a
/// shallow repository can be walked too.
///
/// `lvx fleet` fetches only the recent history of each site (a shallow mirror); libgit2 1.5
/// (Debian 12's) fails on the first parent it does not have. A commit listed in
/// `$GIT_DIR/shallow` is an *edge*: it is walked, its parents are not, and what happened before it
/// is unknown, so a question whose answer lies beyond it throws ``GitError/Code/historyNotFetched``
/// instead of answering from part of the history.
struct Ancestry {
    /// One commit of the walk.
    struct Node {
        var id: ObjectID
        var treeID: ObjectID
        /// Its parents; empty for a root and for an edge.
        var parents: [ObjectID]
        /// Whether its parents exist but were not fetched.
        var isEdge: Bool
        var time: Int64
    }

    /// Every commit reachable from the tip and not from the hidden commit, children before their
    /// parents and, among the commits that are ready, the newest committer time first
    /// (libgit2's `GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME`).
    let newestFirst: [Node]
    private let index: [ObjectID: Int]

    /// The walked node with `id`, if it is part of the walk.
    subscript(id: ObjectID) -> Node? { index[id].map { newestFirst[$0] } }

    /// The tree of commit `id`, walked or hidden.
    func treeID(of id: ObjectID, _ repo: RepositoryPointer) throws(GitError) -> ObjectID {
        if let node = self[id] { return node.treeID }
        return try Commit.lookup(repo, id).treeID
    }

    /// Walks from `tip`, leaving out `hidden` and everything it reaches.
    init(_ repo: RepositoryPointer, gitDirectory: String, tip: ObjectID, hiding hidden: ObjectID?) throws(GitError) {
        let edges = Self.edges(gitDirectory: gitDirectory)
        var excluded: Set<ObjectID> = []
        if let hidden { excluded = Set(try Self.reachable(repo, from: hidden, edges: edges, excluded: []).keys) }
        let nodes = try Self.reachable(repo, from: tip, edges: edges, excluded: excluded)

        // Kahn's algorithm: a commit is ready once every child in the walk has been emitted.
        var children: [ObjectID: Int] = [:]
        for node in nodes.values {
            for parent in node.parents where nodes[parent] != nil { children[parent, default: 0] += 1 }
        }
        var ready = nodes.values.filter { children[$0.id, default: 0] == 0 }
        var order: [Node] = []
        order.reserveCapacity(nodes.count)
        while !ready.isEmpty {
            var newest = 0
            for i in ready.indices.dropFirst() where ready[i].time > ready[newest].time { newest = i }
            let node = ready.remove(at: newest)
            order.append(node)
            for parent in node.parents {
                guard let waiting = children[parent] else { continue }
                children[parent] = waiting - 1
                if waiting == 1, let next = nodes[parent] { ready.append(next) }
            }
        }
        newestFirst = order
        index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1.id, $0) })
    }

    /// The commits named in `$GIT_DIR/shallow`: their parents were not fetched.
    static func edges(gitDirectory: String) -> Set<ObjectID> {
        let path = gitDirectory.hasSuffix("/") ? gitDirectory + "shallow" : gitDirectory + "/shallow"
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return Set(
            String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap {
                ObjectID(hex: String($0))
            }
        )
    }

    /// Every commit reachable from `start` that is not in `excluded`, by id.
    private static func reachable(
        _ repo: RepositoryPointer,
        from start: ObjectID,
        edges: Set<ObjectID>,
        excluded: Set<ObjectID>
    ) throws(GitError) -> [ObjectID: Node] {
        var nodes: [ObjectID: Node] = [:]
        var stack = excluded.contains(start) ? [] : [start]
        while let id = stack.popLast() {
            guard nodes[id] == nil else { continue }
            let commit = try Commit.lookup(repo, id)
            let isEdge = edges.contains(id)
            let parents = isEdge ? [] : commit.parentIDs
            nodes[id] = Node(id: id, treeID: commit.treeID, parents: parents, isEdge: isEdge, time: commit.time.seconds)
            for parent in parents where nodes[parent] == nil && !excluded.contains(parent) { stack.append(parent) }
        }
        return nodes
    }
}

import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// `commitThatAdded`, `commits(touching:after:upTo:)` and `refuseHistoryRewrites`.
    @Suite struct ApprovalHistoryTests {
        let alice = GitIdentity(name: "Alice", email: "alice@example.com")
        let bob = GitIdentity(name: "Bob", email: "bob@example.com")
        let carol = GitIdentity(name: "Carol", email: "carol@example.com")

        func at(_ offset: Int64) -> WallTime { WallTime(secondsSince1970: 1_700_000_000 + offset) }

        @Test("the commit that added a path, across merges and a delete and re-add")
        func commitThatAdded() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let added = try repository.commit(
                files: ["approvals/a.yaml": bytes("by: alice\n")],
                message: "approve a",
                author: alice,
                time: at(10)
            )
            _ = try repository.commit(
                files: ["approvals/a.yaml": bytes("by: mallory\n")],
                message: "edit a",
                author: bob,
                time: at(20)
            )
            // approvals/b.yaml arrives on a side branch, merged without fast-forward.
            try git("checkout", "-q", "-b", "side", "HEAD~1", in: path)
            try write("by: carol\n", to: path + "/approvals/b.yaml")
            try git("add", "approvals/b.yaml", in: path)
            try git("commit", "-q", "-m", "approve b", in: path)
            let side = try git("rev-parse", "HEAD", in: path)
            try git("checkout", "-q", "main", in: path)
            try git("merge", "-q", "--no-ff", "-m", "merge side", "side", in: path)
            let merge = try git("rev-parse", "HEAD", in: path)

            #expect(try repository.commitThatAdded(path: "approvals/a.yaml", reachableFrom: "HEAD") == added)
            #expect(try repository.commitThatAdded(path: "approvals/b.yaml", reachableFrom: merge) == side)
            #expect(try repository.commitThatAdded(path: "approvals/b.yaml", reachableFrom: "HEAD^1") == nil)
            #expect(try repository.commitThatAdded(path: "approvals/", reachableFrom: "HEAD") == added)
            #expect(try repository.commitThatAdded(path: "approvals/none.yaml", reachableFrom: "HEAD") == nil)
            // The first commit added README.md: a root commit introduces what it holds.
            #expect(
                try repository.commitThatAdded(path: "README.md", reachableFrom: "HEAD")
                    == (try git("rev-list", "--max-parents=0", "HEAD", in: path))
            )
            // Deleted and added again: the oldest addition is the answer.
            try git("rm", "-q", "approvals/a.yaml", in: path)
            try git("commit", "-q", "-m", "drop a", in: path)
            try write("by: dave\n", to: path + "/approvals/a.yaml")
            try git("add", "approvals/a.yaml", in: path)
            try git("commit", "-q", "-m", "re-add a", in: path)
            #expect(try repository.commitThatAdded(path: "approvals/a.yaml", reachableFrom: "HEAD") == added)
            #expect(throws: GitError.self) { try repository.commitThatAdded(path: "../x", reachableFrom: "HEAD") }
            #expect(throws: GitError.self) { try repository.commitThatAdded(path: "a", reachableFrom: "nope") }
        }

        @Test("the commits that changed lvx.yaml or profiles/ between two commits, with who made them")
        func commitsTouching() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let base = try repository.commit(
                files: ["lvx.yaml": bytes("site: home\n")],
                message: "site",
                author: alice,
                time: at(10)
            )
            let profile = try repository.commit(
                files: ["profiles/lead.yaml": bytes("battery_type: AGM\n")],
                message: "profile",
                author: bob,
                time: at(20)
            )
            _ = try repository.commit(
                files: ["dumps/shed.yaml": bytes("x: 1\n")],
                message: "dump",
                time: at(30)
            )
            let site = try repository.commit(
                files: ["lvx.yaml": bytes("site: barn\n")],
                message: "site again\n\nbody",
                author: carol,
                committer: bob,
                time: at(40)
            )
            // Same content again: no change.
            _ = try repository.commit(
                files: ["profiles/lead.yaml": bytes("battery_type: AGM\n")],
                message: "same",
                author: carol,
                time: at(50)
            )
            let found = try repository.commits(touching: ["lvx.yaml", "profiles/"], after: base, upTo: "HEAD")
            #expect(found.map(\.id) == [site, profile])
            #expect(found.map(\.author.identity) == [carol, bob])
            #expect(found.map(\.committer.identity) == [bob, bob])
            #expect(found.map(\.summary) == ["site again", "profile"])
            #expect(found.allSatisfy { !$0.isSigned })
            #expect(found.first?.author.time == at(40))
            // Without a lower bound: the whole history, the root commit included.
            let all = try repository.commits(touching: ["profiles/"], after: nil, upTo: "HEAD")
            #expect(all.map(\.summary) == ["profile", "first"])
            // `after` is excluded; a file path works too.
            #expect(try repository.commits(touching: ["lvx.yaml"], after: site, upTo: site).isEmpty)
            #expect(try repository.commits(touching: ["lvx.yaml"], after: profile, upTo: "HEAD").map(\.id) == [site])
        }

        @Test("an approval written on a branch forked before it was added, merged after, is a later change")
        func forkedEditIsSeen() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let fork = try git("rev-parse", "HEAD", in: path)
            let added = try repository.commit(
                files: ["approvals/a.yaml": bytes("by: alice\n")],
                message: "approve a",
                author: alice,
                time: at(10)
            )
            // Mallory's branch starts before the approval and writes its own version of it.
            try git("checkout", "-q", "-b", "side", fork, in: path)
            try write("by: mallory\n", to: path + "/approvals/a.yaml")
            try git("add", "approvals/a.yaml", in: path)
            try git("commit", "-q", "-m", "mallory's approval", in: path)
            let side = try git("rev-parse", "HEAD", in: path)
            try git("checkout", "-q", "main", in: path)
            try git("merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge side", "side", in: path)
            let later = try repository.commits(touching: ["approvals/a.yaml"], after: added, upTo: "HEAD")
            #expect(later.map(\.id).contains(side), "\(later.map(\.summary))")
            #expect(!later.map(\.id).contains(added))
        }

        @Test("a shallow clone answers from the history it holds, and refuses to guess past its edge")
        func shallowHistory() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let old = try repository.commit(
                files: ["approvals/old.yaml": bytes("by: alice\n")],
                message: "approve old",
                author: alice,
                time: at(10)
            )
            for n in 0..<4 {
                _ = try repository.commit(
                    files: ["dumps/u.yaml": bytes("n: \(n)\n")],
                    message: "run",
                    time: at(20 + Int64(n))
                )
            }
            let added = try repository.commit(
                files: ["approvals/new.yaml": bytes("by: bob\n")],
                message: "approve new",
                author: bob,
                time: at(30)
            )
            let edit = try repository.commit(
                files: ["approvals/new.yaml": bytes("by: mallory\n")],
                message: "edit new",
                author: carol,
                time: at(40)
            )
            // The last three commits only: the edge is the last run, whose parents are left out.
            let clone = directory.path + "/shallow.git"
            try git("clone", "-q", "--bare", "--depth", "3", "file://" + path, clone, in: directory.path)
            #expect(FileManager.default.fileExists(atPath: clone + "/shallow"))
            let shallow = try GitRepository.open(path: clone)

            // What happened inside the window is answered as in the whole history.
            #expect(try shallow.commitThatAdded(path: "approvals/new.yaml", reachableFrom: "HEAD") == added)
            #expect(try repository.commitThatAdded(path: "approvals/new.yaml", reachableFrom: "HEAD") == added)
            let later = try shallow.commits(touching: ["approvals/new.yaml"], after: added, upTo: "HEAD")
            #expect(later.map(\.id) == [edit])
            #expect(try shallow.commitThatAdded(path: "approvals/none.yaml", reachableFrom: "HEAD") == nil)
            // An approval added before the edge is not credited to the edge commit, which holds it.
            let error = #expect(throws: GitError.self) {
                try shallow.commitThatAdded(path: "approvals/old.yaml", reachableFrom: "HEAD")
            }
            #expect(error?.code == .historyNotFetched)
            #expect(try repository.commitThatAdded(path: "approvals/old.yaml", reachableFrom: "HEAD") == old)
            // Nor is a change to profiles/ before the edge made up or left out.
            let touching = #expect(throws: GitError.self) {
                try shallow.commits(touching: ["profiles/"], after: nil, upTo: "HEAD")
            }
            #expect(touching?.code == .historyNotFetched)
        }

        @Test("a repository that refuses history rewrites refuses a force-push and a branch deletion")
        func historyCannotBeRewritten() throws {
            let directory = try TemporaryDirectory()
            let remote = directory("site.git")
            let repository = try GitRepository.initialize(path: remote, bare: true)
            #expect(!(try repository.refusesHistoryRewrites()))
            try repository.refuseHistoryRewrites()
            #expect(try repository.refusesHistoryRewrites())
            #expect(try git("config", "--get", "receive.denyNonFastForwards", in: remote) == "true")
            #expect(try git("config", "--get", "receive.denyDeletes", in: remote) == "true")

            let clone = directory("clone")
            try git("clone", "-q", remote, clone, in: directory.path)
            try git("checkout", "-q", "-b", "main", in: clone)
            for name in ["one", "two"] {
                try write(name + "\n", to: clone + "/" + name + ".txt")
                try git("add", "-A", in: clone)
                try git("commit", "-q", "-m", name, in: clone)
            }
            try git("push", "-q", "origin", "main", "main:other", in: clone)

            try git("reset", "-q", "--hard", "HEAD~1", in: clone)
            try write("rewritten\n", to: clone + "/one.txt")
            try git("commit", "-q", "-a", "-m", "rewritten", in: clone)
            let forced = try run(
                "/usr/bin/git",
                ["push", "--force", "origin", "main"],
                environment: gitEnvironment(home: clone),
                in: clone
            )
            #expect(forced.status != 0)
            #expect(forced.error.contains("denying non-fast-forward refs/heads/main (you should pull first)"))

            let deleted = try run(
                "/usr/bin/git",
                ["push", "origin", "--delete", "other"],
                environment: gitEnvironment(home: clone),
                in: clone
            )
            #expect(deleted.status != 0)
            #expect(deleted.error.contains("denying ref deletion for refs/heads/other"))
            #expect(try git("log", "--format=%s", "main", in: remote) == "two\none")
            #expect(try git("rev-parse", "other", in: remote) == (try git("rev-parse", "main", in: remote)))
        }
    }
}

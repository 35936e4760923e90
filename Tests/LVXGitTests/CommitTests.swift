import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// `HistoryStore.commit`: generated files on the branch tip, user files untouched, git clean.
    @Suite struct CommitTests {
        @Test func commitKeepsUserFilesAndLeavesStatusClean() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let before = try git("rev-parse", "HEAD", in: path)
            let repository = try GitRepository.open(path: path)

            let id = try repository.commit(
                files: [
                    "dumps/2023-11-14/shed.yaml": bytes("battery_type: USER\n"),
                    "plans/shed.plan.json": bytes("{}\n"),
                ],
                message: "lvx run: dump shed",
                author: "lvx on host <lvx@host.example>",
                time: fixedTime
            )
            #expect(id == (try git("rev-parse", "HEAD", in: path)))
            #expect(try git("rev-parse", "HEAD^", in: path) == before)
            #expect(try git("symbolic-ref", "HEAD", in: path) == "refs/heads/main")
            #expect(
                try git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%ad|%s", "--date=raw", in: path)
                    == "lvx on host <lvx@host.example>|lvx on host <lvx@host.example>|1700000000 +0100|lvx run: dump shed"
            )
            // Exactly the two generated paths changed; user files are as they were.
            #expect(
                try git("diff", "--name-status", "HEAD^", "HEAD", in: path)
                    == "A\tdumps/2023-11-14/shed.yaml\nA\tplans/shed.plan.json"
            )
            #expect(try git("show", "HEAD:units/shed.yaml", in: path) == "serial: '1'\nversion: 2")
            // Working tree and index follow the commit.
            #expect(try read(path + "/dumps/2023-11-14/shed.yaml") == "battery_type: USER\n")
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")

            // A second run rewrites the dump: still clean, one more commit.
            let second = try repository.commit(
                files: ["dumps/2023-11-14/shed.yaml": bytes("battery_type: AGM\n")],
                message: "lvx run: dump shed again\n",
                author: "lvx",
                time: WallTime(secondsSince1970: 1_700_000_600)
            )
            #expect(try git("rev-list", "--count", "HEAD", in: path) == "4")
            #expect(try read(path + "/dumps/2023-11-14/shed.yaml") == "battery_type: AGM\n")
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")
            #expect(
                try git("log", "-1", "--format=%an <%ae>|%s", in: path)
                    == "lvx <lvx@localhost>|lvx run: dump shed again"
            )
            #expect(try repository.file("dumps/2023-11-14/shed.yaml", at: second)?.text == "battery_type: AGM\n")
        }

        @Test func commitInBareRepository() throws {
            let directory = try TemporaryDirectory()
            let source = try makeDesiredStateRepository(in: directory)
            let path = directory("bare.git")
            try git("clone", "-q", "--bare", source, path, in: directory.path)
            let repository = try GitRepository.open(path: path)
            let id = try repository.commit(
                files: ["results/r.json": bytes("{\"ok\":true}\n")],
                message: "result",
                author: "lvx",
                time: fixedTime
            )
            #expect(try git("rev-parse", "main", in: path) == id)
            #expect(
                try git("ls-tree", "-r", "--name-only", "HEAD", in: path)
                    == "README.md\nprofiles/lead.yaml\nresults/r.json\nunits/barn.yaml\nunits/shed.yaml"
            )
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
        }

        @Test func firstCommitOnAFreshRepository() throws {
            let directory = try TemporaryDirectory()
            let path = directory("fresh")
            let repository = try GitRepository.initialize(path: path)
            #expect(try git("symbolic-ref", "HEAD", in: path) == "refs/heads/main")
            #expect(
                throws: RepositoryError(
                    "the branch 'main' in \(path) has no commits yet",
                    hint: "commit the desired state first"
                )
            ) {
                try repository.resolve("HEAD")
            }
            #expect(try repository.log(path: "a.txt").isEmpty)
            let id = try repository.commit(
                files: ["a.txt": bytes("a\n")],
                message: "first",
                author: "lvx",
                time: fixedTime
            )
            #expect(try git("rev-list", "--parents", "HEAD", in: path) == id)  // no parents
            #expect(try repository.looseObjectCount() == 3)  // blob, tree, commit: nothing unreachable
            #expect(try git("status", "--porcelain", in: path) == "")
            #expect(try repository.resolve("HEAD") == id)

            let trunk = try GitRepository.initialize(path: directory("trunk.git"), bare: true, branch: "trunk")
            #expect(trunk.isBare)
            #expect(try git("symbolic-ref", "HEAD", in: directory("trunk.git")) == "refs/heads/trunk")
            #expect(throws: GitError.self) { try GitRepository.initialize(path: directory("x"), branch: "a..b") }
        }

        @Test func branchMovedBetweenReadingTheTipAndUpdatingIsRetried() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let attempts = Attempts()
            repository.beforeRefUpdate = { attempt in
                attempts.record(attempt)
                guard attempt == 1 else { return }
                // Someone else commits on the branch after lvx read the tip.
                try? write("from a person\n", to: path + "/notes.txt")
                _ = try? git("add", "notes.txt", in: path)
                _ = try? git("commit", "-q", "-m", "a person's commit", in: path)
            }
            let id = try repository.commit(
                files: ["dumps/shed.yaml": bytes("x: 1\n")],
                message: "lvx dump",
                author: "lvx",
                time: fixedTime
            )
            #expect(attempts.all == [1, 2])
            #expect(try git("log", "--format=%s", in: path) == "lvx dump\na person's commit\nsecond\nfirst")
            #expect(try git("rev-parse", "HEAD", in: path) == id)
            #expect(try git("show", "HEAD:notes.txt", in: path) == "from a person")
            #expect(try git("show", "HEAD:dumps/shed.yaml", in: path) == "x: 1")
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
        }

        @Test func givesUpWhenTheBranchKeepsMoving() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            repository.beforeRefUpdate = { attempt in
                _ = try? git("commit", "-q", "--allow-empty", "-m", "busy \(attempt)", in: path)
            }
            #expect(
                throws: RepositoryError(
                    "the branch 'main' in \(path) kept moving; gave up after 10 attempts",
                    hint: "run again when nothing else is committing to it"
                )
            ) {
                try repository.commit(files: ["d.yaml": bytes("d\n")], message: "lvx", author: "lvx", time: fixedTime)
            }
            // Every other commit is kept; lvx's never landed.
            #expect(try git("log", "-1", "--format=%s", in: path) == "busy 10")
            #expect(try git("rev-list", "--count", "HEAD", in: path) == "12")
            #expect(throws: CommandFailure.self) { try git("cat-file", "-e", "HEAD:d.yaml", in: path) }
        }

        @Test func refusesToOverwriteUncommittedEdits() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            _ = try repository.commit(
                files: ["dumps/shed.yaml": bytes("v: 1\n")],
                message: "dump",
                author: "lvx",
                time: fixedTime
            )
            let head = try git("rev-parse", "HEAD", in: path)

            // An edit in the working tree.
            try write("v: edited by hand\n", to: path + "/dumps/shed.yaml")
            #expect(
                throws: RepositoryError(
                    "'dumps/shed.yaml' has uncommitted changes in the working tree of \(path); lvx will not overwrite them",
                    hint: "commit or discard them (git diff HEAD -- dumps/shed.yaml), then run again"
                )
            ) {
                try repository.commit(
                    files: ["dumps/shed.yaml": bytes("v: 2\n"), "dumps/barn.yaml": bytes("v: 2\n")],
                    message: "dump",
                    author: "lvx",
                    time: fixedTime
                )
            }
            #expect(try git("rev-parse", "HEAD", in: path) == head)  // nothing committed
            #expect(try read(path + "/dumps/shed.yaml") == "v: edited by hand\n")
            #expect(!FileManager.default.fileExists(atPath: path + "/dumps/barn.yaml"))

            // The same edit, staged.
            try git("add", "dumps/shed.yaml", in: path)
            try write("v: 1\n", to: path + "/dumps/shed.yaml")
            #expect(
                throws: RepositoryError(
                    "'dumps/shed.yaml' has uncommitted changes in the index (staged) of \(path); lvx will not overwrite them",
                    hint: "commit or discard them (git diff HEAD -- dumps/shed.yaml), then run again"
                )
            ) {
                try repository.commit(
                    files: ["dumps/shed.yaml": bytes("v: 2\n")],
                    message: "d",
                    author: "lvx",
                    time: fixedTime
                )
            }
            try git("reset", "-q", "--hard", in: path)

            // An untracked file where a new generated file goes: refused unless it already matches.
            try write("mine\n", to: path + "/plans/p.json")
            #expect(throws: RepositoryError.self) {
                try repository.commit(
                    files: ["plans/p.json": bytes("{}\n")],
                    message: "p",
                    author: "lvx",
                    time: fixedTime
                )
            }
            try write("{}\n", to: path + "/plans/p.json")
            _ = try repository.commit(
                files: ["plans/p.json": bytes("{}\n")],
                message: "p",
                author: "lvx",
                time: fixedTime
            )
            #expect(try git("status", "--porcelain", "--untracked-files=all", in: path) == "")
        }

        @Test func refusesToWriteThroughASymlinkedDirectory() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let outside = directory("outside")
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: path + "/dumps", withDestinationPath: outside)
            let repository = try GitRepository.open(path: path)
            let workingDirectory = try #require(repository.workingDirectory)
            #expect(
                throws: RepositoryError(
                    "'\(workingDirectory)dumps' is not a directory; lvx will not write 'dumps/x.yaml' through it",
                    hint: "replace it with a plain directory"
                )
            ) {
                try repository.commit(
                    files: ["dumps/x.yaml": bytes("x\n")],
                    message: "x",
                    author: "lvx",
                    time: fixedTime
                )
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        }

        @Test func refusesOnDetachedHead() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            try git("checkout", "-q", "--detach", "HEAD", in: path)
            let repository = try GitRepository.open(path: path)
            #expect(
                throws: RepositoryError(
                    "HEAD is detached in \(path); lvx commits only on a branch",
                    hint: "check out a branch first (git switch main)"
                )
            ) {
                try repository.commit(files: ["x": bytes("x")], message: "x", author: "lvx", time: fixedTime)
            }
        }

        @Test("the current branch is named, unborn too, and nil when HEAD is detached")
        func currentBranch() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            #expect(try repository.currentBranch() == "main")
            try git("switch", "-q", "-c", "site/north", in: path)
            #expect(try repository.currentBranch() == "site/north")
            try git("checkout", "-q", "--detach", "HEAD", in: path)
            #expect(try repository.currentBranch() == nil)
            let unborn = try GitRepository.initialize(path: directory("fresh"), branch: "trunk")
            #expect(try unborn.currentBranch() == "trunk")
        }

        @Test(arguments: [
            ("lvx", "lvx", "lvx@localhost"),
            ("Ann Example <ann@example.com>", "Ann Example", "ann@example.com"),
            ("  <only@mail>", "lvx", "only@mail"),
            ("bad<name", "badname", "lvx@localhost"),
            ("", "lvx", "lvx@localhost"),
        ])
        func authorIsSplitIntoNameAndEmail(author: String, name: String, email: String) {
            let identity = GitRepository.identity(from: author)
            #expect(identity.name == name)
            #expect(identity.email == email)
        }
    }
}

/// Attempt numbers recorded by the ref-update hook.
final class Attempts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []

    func record(_ value: Int) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var all: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

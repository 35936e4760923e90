import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// `log`, `fileHistory`, `pack` and the error messages.
    @Suite struct HistoryTests {
        @Test func logListsCommitsThatChangedAPath() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            let t0 = Int64(1_700_000_000)
            let a = try repository.commit(
                files: ["d/shed.yaml": bytes("v1\n")],
                message: "one",
                author: "lvx",
                time: .init(secondsSince1970: t0)
            )
            _ = try repository.commit(
                files: ["d/barn.yaml": bytes("b\n")],
                message: "other",
                author: "lvx",
                time: .init(secondsSince1970: t0 + 10)
            )
            let c = try repository.commit(
                files: ["d/shed.yaml": bytes("v2\n")],
                message: "two\n\nbody",
                author: "lvx",
                time: .init(secondsSince1970: t0 + 20)
            )
            // Same content again: not a change of the path.
            _ = try repository.commit(
                files: ["d/shed.yaml": bytes("v2\n")],
                message: "same",
                author: "lvx",
                time: .init(secondsSince1970: t0 + 30)
            )
            try git("rm", "-q", "d/shed.yaml", in: path)
            try git("commit", "-q", "-m", "removed", "--date=@\(t0 + 40)", in: path)
            let removed = try git("rev-parse", "HEAD", in: path)

            let log = try repository.log(path: "d/shed.yaml")
            #expect(log.map(\.commit) == [removed, c, a])
            #expect(log.map(\.message) == ["removed", "two\n\nbody", "one"])
            #expect(log[1].time == WallTime(secondsSince1970: t0 + 20))
            #expect(try repository.log(path: "d/shed.yaml", limit: 2).map(\.commit) == [removed, c])
            #expect(try repository.log(path: "d").count == 4)  // a directory changes with its files
            let unitLog = try repository.log(path: "units/shed.yaml").map(\.message)
            #expect(unitLog == ["second", "first"])

            let history = try repository.fileHistory(path: "d/shed.yaml")
            #expect(history.map { $0.content?.text } == [nil, "v2\n", "v1\n"])
            let window = try repository.fileHistory(
                path: "d/shed.yaml",
                since: WallTime(secondsSince1970: t0 + 5),
                until: WallTime(secondsSince1970: t0 + 25)
            )
            #expect(window.map(\.entry.commit) == [c])
            #expect(window.first?.content?.text == "v2\n")
        }

        @Test func packLeavesNoLooseObjectsAndARepositoryGitAccepts() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            for n in 0..<30 {
                _ = try repository.commit(
                    files: ["dumps/\(n % 3)/shed.yaml": bytes("n: \(n)\n")],
                    message: "dump \(n)",
                    author: "lvx",
                    time: WallTime(secondsSince1970: 1_700_000_000 + Int64(n))
                )
            }
            let loose = try repository.looseObjectCount()
            #expect(loose > 100)
            #expect(try git("count-objects", in: path).hasPrefix("\(loose) objects"))

            let result = try repository.pack()
            #expect(result.removedLooseObjects == loose)
            #expect(result.packedObjects == loose)
            #expect(try repository.looseObjectCount() == 0)
            #expect(try git("count-objects", "-v", in: path).contains("count: 0\n"))
            #expect(try git("count-objects", "-v", in: path).contains("in-pack: \(loose)\n"))
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
            #expect(try git("status", "--porcelain", in: path) == "")

            // Everything still reads, from this handle and a new one, and committing goes on.
            let head = try repository.resolve("HEAD")
            #expect(try repository.file("dumps/2/shed.yaml", at: head)?.text == "n: 29\n")
            #expect(
                try GitRepository.open(path: path).file("units/shed.yaml", at: "HEAD~30")?.text
                    == "serial: '1'\nversion: 2\n"
            )
            _ = try repository.commit(
                files: ["after.txt": bytes("a\n")],
                message: "after",
                author: "lvx",
                time: fixedTime
            )
            #expect(try repository.looseObjectCount() == 3)  // blob, tree, commit
            #expect(try repository.pack().removedLooseObjects == 3)
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
        }

        @Test func packsStayAGeometricProgressionAndEveryObjectStays() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            let repository = try GitRepository.open(path: path)
            var counts: [Int] = []
            var rolled = 0
            for n in 0..<16 {
                for k in 0..<4 {
                    _ = try repository.commit(
                        files: ["dumps/\(k)/shed.yaml": bytes("n: \(n) k: \(k)\n")],
                        message: "dump \(n).\(k)",
                        author: "lvx",
                        time: WallTime(secondsSince1970: 1_700_000_000 + Int64(n * 4 + k))
                    )
                }
                let result = try repository.pack()
                counts.append(result.packs)
                rolled += result.rolledUpPacks
                // After every packing: sorted by size, each pack holds at least twice the one before.
                let sizes = try packSizes(path)
                #expect(sizes.count == result.packs)
                for (smaller, larger) in zip(sizes, sizes.dropFirst()) {
                    #expect(larger >= 2 * smaller, "not geometric: \(sizes)")
                }
            }
            #expect(rolled > 0, "16 packings made packs to roll up")
            #expect((counts.max() ?? 99) <= 5, "about log2(16) packs, not 16: \(counts)")
            #expect(try git("fsck", "--strict", "--no-dangling", in: path) == "")
            #expect(try git("count-objects", "-v", in: path).contains("count: 0\n"))
            let head = try GitRepository.open(path: path).resolve("HEAD")
            #expect(try GitRepository.open(path: path).file("dumps/3/shed.yaml", at: head)?.text == "n: 15 k: 3\n")
            #expect(try GitRepository.open(path: path).file("dumps/0/shed.yaml", at: "HEAD~63")?.text == "n: 0 k: 0\n")
        }

        /// The object counts of the repository's packs, smallest first, as git reads them.
        func packSizes(_ path: String) throws -> [Int] {
            let directory = (path as NSString).appendingPathComponent(".git/objects/pack")
            let indexes = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".idx") }
            return try indexes.map { name in
                let index = (directory as NSString).appendingPathComponent(name)
                let listed = try run(
                    "/bin/sh",
                    ["-c", "git show-index < '\(index)'"],
                    environment: gitEnvironment(home: path),
                    in: path
                )
                return listed.output.split(separator: "\n").count
            }.sorted()
        }

        @Test func packOfAnEmptyRepositoryDoesNothing() throws {
            let directory = try TemporaryDirectory()
            let repository = try GitRepository.initialize(path: directory("empty"), bare: true)
            #expect(try repository.pack() == GitPackResult(packedObjects: 0, removedLooseObjects: 0))
        }

        @Test func errorMessagesSayWhatToDo() throws {
            let directory = try TemporaryDirectory()
            let missing = directory("missing")
            #expect(throws: GitError.self) { try GitRepository.open(path: missing) }
            do {
                _ = try GitRepository.open(path: missing)
            } catch {
                #expect(error.description == "not a git repository: \(missing); run `lvx init` or pass --repo")
                #expect(error.code == .notARepository)
                #expect(
                    error.repositoryError
                        == RepositoryError("not a git repository: \(missing)", hint: "run `lvx init` or pass --repo")
                )
            }
            // An existing directory inside another repository is not opened by searching upwards.
            let path = try makeDesiredStateRepository(in: directory)
            #expect(
                throws: GitError(
                    .notARepository,
                    "not a git repository: \(path)/units",
                    hint: "run `lvx init` or pass --repo"
                )
            ) {
                try GitRepository.open(path: path + "/units")
            }

            let repository = try GitRepository.open(path: path)
            #expect(
                throws: RepositoryError(
                    "unknown revision 'nope' in \(path)",
                    hint: "use a branch, tag or commit id that exists there"
                )
            ) {
                try repository.resolve("nope")
            }
            #expect(
                throws: RepositoryError(
                    "unknown revision 'HEAD~5' in \(path)",
                    hint: "use a branch, tag or commit id that exists there"
                )
            ) {
                try repository.file("README.md", at: "HEAD~5")
            }
            let missingID = String(repeating: "0", count: 39) + "1"
            #expect(
                throws: RepositoryError(
                    "unknown revision '\(missingID)' in \(path)",
                    hint: "use a branch, tag or commit id that exists there"
                )
            ) {
                try repository.resolve(missingID)
            }
            #expect(throws: RepositoryError("revision 'HEAD^{tree}' is not a commit in \(path)")) {
                try repository.resolve("HEAD^{tree}")
            }
        }

        @Test func libraryFailuresNameTheFunction() {
            let error = libraryError(-3, "git_tree_entry_bypath")
            #expect(error.code == .library)
            #expect(error.function == "git_tree_entry_bypath")
            #expect(error.libraryCode == -3)
            #expect(error.message.hasPrefix("git_tree_entry_bypath failed: "))
            #expect(throws: GitError.self) { try check(-1, "git_x") }
            #expect((try? check(7, "git_x")) == 7)
        }
    }
}

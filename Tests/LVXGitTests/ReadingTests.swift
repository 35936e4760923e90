import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// `DesiredStateSource`: committed content at a revision, from bare and non-bare repositories.
    @Suite struct ReadingTests {
        @Test(arguments: [false, true])
        func readsFilesAtHeadAndAtAnOlderRevision(bare: Bool) throws {
            let directory = try TemporaryDirectory()
            var path = try makeDesiredStateRepository(in: directory)
            if bare {
                try git("clone", "-q", "--bare", path, directory("bare.git"), in: directory.path)
                path = directory("bare.git")
            }
            let repository = try GitRepository.open(path: path)
            #expect(repository.isBare == bare)
            #expect((repository.workingDirectory == nil) == bare)

            let head = try repository.resolve("HEAD")
            #expect(head == (try git("rev-parse", "HEAD", in: path)))
            let previous = try repository.resolve("HEAD~1")
            #expect(previous == (try git("rev-parse", "HEAD~1", in: path)))
            #expect(try repository.resolve("main") == head)
            #expect(try repository.resolve(String(head.prefix(10))) == head)

            #expect(try repository.file("units/shed.yaml", at: head)?.text == "serial: '1'\nversion: 2\n")
            #expect(try repository.file("units/shed.yaml", at: previous)?.text == "serial: '1'\nversion: 1\n")
            #expect(try repository.file("units/barn.yaml", at: previous) == nil)
            #expect(try repository.file("nope.yaml", at: head) == nil)
            #expect(try repository.file("units/shed.yaml/deeper", at: head) == nil)

            #expect(try repository.list("units", at: head) == ["units/barn.yaml", "units/shed.yaml"])
            #expect(try repository.list("units/", at: previous) == ["units/shed.yaml"])
            #expect(try repository.list("", at: head) == ["README.md"])
            #expect(try repository.list(".", at: head) == ["README.md"])
            #expect(try repository.list("plans", at: head) == [])
        }

        @Test func workingTreeEditsAreNotSeen() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            try write("serial: '1'\nversion: EDITED\n", to: path + "/units/shed.yaml")
            try write("untracked\n", to: path + "/units/new.yaml")
            try git("add", "units/new.yaml", in: path)  // staged is not committed either

            let repository = try GitRepository.open(path: path)
            let head = try repository.resolve("HEAD")
            #expect(try repository.file("units/shed.yaml", at: head)?.text == "serial: '1'\nversion: 2\n")
            #expect(try repository.file("units/new.yaml", at: head) == nil)
            #expect(try repository.list("units", at: head) == ["units/barn.yaml", "units/shed.yaml"])
        }

        @Test func directoriesAreNotFiles() throws {
            let directory = try TemporaryDirectory()
            let repository = try GitRepository.open(path: try makeDesiredStateRepository(in: directory))
            let head = try repository.resolve("HEAD")
            #expect(throws: RepositoryError.self) { try repository.file("units", at: head) }
            #expect(throws: RepositoryError.self) { try repository.list("README.md", at: head) }
            #expect(
                throws: RepositoryError(
                    "'../etc/passwd' is not a valid repository path",
                    hint: "use a relative path like `units/shed.yaml`, without `.`, `..` or `.git` parts"
                )
            ) {
                try repository.file("../etc/passwd", at: head)
            }
        }

        @Test func usableFromManyTasksAtOnce() async throws {
            let directory = try TemporaryDirectory()
            let repository = try GitRepository.open(path: try makeDesiredStateRepository(in: directory))
            let head = try repository.resolve("HEAD")
            let contents = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<32 {
                    group.addTask { try repository.file("units/shed.yaml", at: head)?.text }
                }
                var all: [String?] = []
                for try await content in group { all.append(content) }
                return all
            }
            #expect(contents.count == 32)
            #expect(Set(contents) == ["serial: '1'\nversion: 2\n"])
        }
    }
}

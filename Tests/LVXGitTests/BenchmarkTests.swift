import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// Timings of commit (with and without fsync), a 1000-commit run and pack.
    ///
    /// Off by default (they take seconds and depend on the disk); run with `LVX_GIT_BENCH=1`.
    /// The assertions check the work was really done; the figures are printed.
    @Suite(.enabled(if: ProcessInfo.processInfo.environment["LVX_GIT_BENCH"] != nil))
    struct BenchmarkTests {
        private func dump(_ n: Int) -> [UInt8] {
            bytes(
                (0..<20).map { "key_\($0): \(n * 31 + $0)  # a comment to make it dump-sized" }.joined(separator: "\n")
                    + "\n"
            )
        }

        private func commits(_ count: Int, into repository: GitRepository, offset: Int = 0) throws -> Duration {
            let clock = ContinuousClock()
            return try clock.measure {
                for n in offset..<(offset + count) {
                    _ = try repository.commit(
                        files: ["dumps/unit\(n % 4)/\(n).yaml": dump(n)],
                        message: "dump \(n)",
                        author: "lvx",
                        time: WallTime(secondsSince1970: 1_700_000_000 + Int64(n))
                    )
                }
            }
        }

        private func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
        }

        @Test(arguments: [true, false])
        func commitCostWithAndWithoutFsync(bare: Bool) throws {
            defer { LibGit2Runtime.setFsyncGitDirectory(true) }
            for fsync in [true, false, true, false] {
                let directory = try TemporaryDirectory()
                let repository = try GitRepository.initialize(path: directory("r"), bare: bare)
                LibGit2Runtime.setFsyncGitDirectory(fsync)
                _ = try commits(10, into: repository)  // warm-up
                sync()
                let elapsed = try commits(200, into: repository, offset: 10)
                print(
                    "BENCH commit bare=\(bare) fsync=\(fsync): \(String(format: "%.2f", milliseconds(elapsed) / 200)) ms/commit"
                )
                #expect(try git("rev-list", "--count", "HEAD", in: directory("r")) == "210")
            }
        }

        @Test func openAndCloseCost() throws {
            let directory = try TemporaryDirectory()
            let path = try makeDesiredStateRepository(in: directory)
            #expect(LibGit2Runtime.liveTokens == 0)
            let clock = ContinuousClock()
            // Each open initialises libgit2 (isolation included) and each close shuts it down.
            let cold = try clock.measure {
                for _ in 0..<100 { _ = try GitRepository.open(path: path).resolve("HEAD") }
            }
            let keeper = try GitRepository.open(path: path)
            let warm = try clock.measure {
                for _ in 0..<100 { _ = try GitRepository.open(path: path).resolve("HEAD") }
            }
            print(
                "BENCH open+resolve+close: \(String(format: "%.2f", milliseconds(cold) / 100)) ms with libgit2 init/shutdown, "
                    + "\(String(format: "%.2f", milliseconds(warm) / 100)) ms while another repository keeps it up"
            )
            #expect(keeper.isBare == false)
        }

        @Test(arguments: [false, true])
        func thousandCommitsThenPack(bare: Bool) throws {
            let directory = try TemporaryDirectory()
            let repository = try GitRepository.initialize(path: directory("r"), bare: bare)
            sync()
            let elapsed = try commits(1_000, into: repository)
            let loose = try repository.looseObjectCount()
            print(
                "BENCH 1000 commits (bare=\(bare), fsync on): \(String(format: "%.2f", milliseconds(elapsed) / 1_000)) s, \(loose) loose objects"
            )
            let clock = ContinuousClock()
            var result = GitPackResult(packedObjects: 0, removedLooseObjects: 0)
            let packing = try clock.measure { result = try repository.pack() }
            print("BENCH pack: \(String(format: "%.0f", milliseconds(packing))) ms for \(result.packedObjects) objects")
            let logging = try clock.measure { _ = try repository.log(path: "dumps/unit1") }
            print("BENCH log(path:) over 1000 commits: \(String(format: "%.0f", milliseconds(logging))) ms")
            #expect(result.removedLooseObjects == loose)
            #expect(try repository.looseObjectCount() == 0)
            #expect(try git("fsck", "--strict", "--no-dangling", in: directory("r")) == "")
            if !bare { #expect(try git("status", "--porcelain", in: directory("r")) == "") }
        }
    }
}

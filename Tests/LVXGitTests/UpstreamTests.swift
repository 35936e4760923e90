import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

/// Fetch, fast-forward and push against real repositories made with the git CLI.
@Suite(.serialized) struct UpstreamTests {
    /// An upstream bare repository, a person's clone of it, and lvx's clone (non-bare, tracking it).
    struct Setup {
        let dir: TemporaryDirectory
        let upstream: String
        let person: String
        let agent: String

        init() throws {
            dir = try TemporaryDirectory()
            let seed = try makeDesiredStateRepository(in: dir)
            upstream = dir("upstream.git")
            try git("clone", "-q", "--bare", seed, upstream, in: dir.path)
            person = dir("person")
            agent = dir("agent")
            try git("clone", "-q", upstream, person, in: dir.path)
            try git("clone", "-q", upstream, agent, in: dir.path)
        }

        func personCommits(_ path: String, _ text: String) throws {
            try write(text, to: person + "/" + path)
            try git("add", "-A", in: person)
            try git("commit", "-q", "-m", "person: \(path)", in: person)
            try git("push", "-q", "origin", "main", in: person)
        }
    }

    @Test("no upstream: nothing fetched or pushed")
    func noUpstream() throws {
        let dir = try TemporaryDirectory()
        let repo = try GitRepository.open(path: try makeDesiredStateRepository(in: dir))
        #expect(try repo.upstreamRemote() == nil)
        #expect(try repo.syncFromUpstream() == .noUpstream)
        #expect(try repo.pushToUpstream() == .noUpstream)
    }

    @Test("a person's push is fetched and fast-forwarded, and lvx's commit is pushed back")
    func fastForwardAndPush() throws {
        let s = try Setup()
        try s.personCommits("profiles/lead.yaml", "battery_type: FLOODED\n")
        let repo = try GitRepository.open(path: s.agent)
        #expect(try repo.upstreamRemote() == "origin")
        guard case .fastForwarded = try repo.syncFromUpstream() else {
            Issue.record("expected a fast-forward")
            return
        }
        #expect(try read(s.agent + "/profiles/lead.yaml") == "battery_type: FLOODED\n")
        #expect(try git("status", "--porcelain", in: s.agent).isEmpty)
        #expect(try repo.syncFromUpstream() == .upToDate)

        _ = try repo.commit(
            files: ["dumps/shed.yaml": bytes("taken_at: now\n")],
            message: "run",
            author: "lvx",
            time: WallTime(secondsSince1970: 1_800_000_000)
        )
        #expect(try repo.syncFromUpstream() == .ahead(1))
        #expect(try repo.pushToUpstream() == .pushed(commits: 1))
        #expect(try git("log", "-1", "--format=%s", "main", in: s.upstream) == "run")
        #expect(try git("show", "main:dumps/shed.yaml", in: s.upstream) == "taken_at: now")
        #expect(try repo.pushToUpstream() == .nothingToPush)
    }

    @Test("diverged: nothing is rewritten locally, and no push that would lose the person's commit is tried")
    func diverged() throws {
        let s = try Setup()
        let repo = try GitRepository.open(path: s.agent)
        _ = try repo.commit(
            files: ["dumps/shed.yaml": bytes("x\n")],
            message: "run",
            author: "lvx",
            time: WallTime(secondsSince1970: 1_800_000_000)
        )
        try s.personCommits("profiles/lead.yaml", "battery_type: AGM\n")
        let localTip = try git("rev-parse", "main", in: s.agent)
        #expect(try repo.syncFromUpstream() == .diverged(ahead: 1, behind: 1))
        #expect(try git("rev-parse", "main", in: s.agent) == localTip)
        #expect(try repo.pushToUpstream() == .diverged(ahead: 1, behind: 1))
        #expect(try git("log", "-1", "--format=%s", "main", in: s.upstream) == "person: profiles/lead.yaml")
    }

    @Test("a person's unpushed commit in lvx's clone holds back the push of lvx's commit after it")
    func foreignCommitHeldBack() throws {
        let s = try Setup()
        let before = try git("rev-parse", "main", in: s.upstream)
        try write("port: /dev/nowhere\n", to: s.agent + "/profiles/broken.yaml")
        try git("add", "-A", in: s.agent)
        try git("commit", "-q", "-m", "try a port", in: s.agent)
        let personal = try git("rev-parse", "HEAD", in: s.agent)
        let repo = try GitRepository.open(path: s.agent)
        #expect(try repo.syncFromUpstream() == .ahead(1))
        _ = try repo.commit(
            files: ["dumps/shed.yaml": bytes("x\n")],
            message: "run",
            author: "lvx",
            time: WallTime(secondsSince1970: 1_800_000_000)
        )
        let first = ForeignCommit(shortID: String(personal.prefix(12)), author: "Test User")
        #expect(try repo.pushToUpstream() == .heldBack(foreignCommits: 1, first: first))
        #expect(try git("rev-parse", "main", in: s.upstream) == before)
        #expect(
            try git("log", "--format=%s", "main", in: s.agent).split(separator: "\n") == [
                "run", "try a port", "second", "first",
            ]
        )
    }

    @Test("an lvx commit a person amended is theirs now: its committer changed, so it is held back")
    func amendedCommitHeldBack() throws {
        let s = try Setup()
        let before = try git("rev-parse", "main", in: s.upstream)
        let repo = try GitRepository.open(path: s.agent)
        _ = try repo.commit(
            files: ["dumps/shed.yaml": bytes("x\n")],
            message: "run",
            author: "lvx",
            time: WallTime(secondsSince1970: 1_800_000_000)
        )
        try write("port: /dev/nowhere\n", to: s.agent + "/profiles/broken.yaml")
        try git("add", "-A", in: s.agent)
        try git("commit", "-q", "--amend", "--no-edit", in: s.agent)
        #expect(try git("log", "-1", "--format=%an <%ae>", in: s.agent) == "lvx <lvx@localhost>")
        let amended = try git("rev-parse", "HEAD", in: s.agent)
        let first = ForeignCommit(shortID: String(amended.prefix(12)), author: "lvx")
        #expect(try repo.pushToUpstream() == .heldBack(foreignCommits: 1, first: first))
        #expect(try git("rev-parse", "main", in: s.upstream) == before)
    }

    @Test("several lvx commits and nothing else: all are pushed")
    func onlyAgentCommitsPushed() throws {
        let s = try Setup()
        let repo = try GitRepository.open(path: s.agent)
        for n in 1...3 {
            _ = try repo.commit(
                files: ["dumps/shed.yaml": bytes("run \(n)\n")],
                message: "run \(n)",
                author: "lvx",
                time: WallTime(secondsSince1970: 1_800_000_000 + Int64(n))
            )
        }
        #expect(try repo.pushToUpstream() == .pushed(commits: 3))
        #expect(try git("rev-parse", "main", in: s.upstream) == git("rev-parse", "main", in: s.agent))
        #expect(
            try git("log", "-1", "--format=%an <%ae> %cn <%ce>", "main", in: s.upstream)
                == "lvx <lvx@localhost> lvx <lvx@localhost>"
        )
    }
}

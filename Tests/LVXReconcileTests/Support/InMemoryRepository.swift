import LVXCore
import Synchronization

/// A desired-state repository in memory: each commit a full snapshot of the files.
final class InMemoryRepository: SiteRepository {
    struct Commit {
        var id: String
        var files: [String: [UInt8]]
        var message: String
    }

    let path = "memory:site"
    private let commits: Mutex<[Commit]>
    /// Whether HEAD is detached (lvx must then refuse to apply).
    let detached = Atomic<Bool>(false)

    init(files: [String: String]) {
        commits = Mutex([Commit(id: Self.id(0), files: files.mapValues { Array($0.utf8) }, message: "initial")])
    }

    private static func id(_ n: Int) -> String { String(SHA256.hex("commit \(n)").prefix(40)) }

    func resolve(_ revision: String) throws(RepositoryError) -> String {
        let found = commits.withLock { commits in
            revision == "HEAD" ? commits.last?.id : commits.first(where: { $0.id == revision })?.id
        }
        guard let found else { throw RepositoryError("unknown revision \(revision)") }
        return found
    }

    func file(_ path: String, at commit: String) throws(RepositoryError) -> [UInt8]? {
        commits.withLock { $0.first(where: { $0.id == commit })?.files[path] }
    }

    func list(_ directory: String, at commit: String) throws(RepositoryError) -> [String] {
        commits.withLock { commits in
            (commits.first(where: { $0.id == commit })?.files.keys ?? [:].keys).filter { path in
                path.hasPrefix(directory + "/") && !path.dropFirst(directory.count + 1).contains("/")
            }.sorted()
        }
    }

    func commit(
        files: [String: [UInt8]],
        message: String,
        author: String,
        time: WallTime
    ) throws(RepositoryError)
        -> String
    {
        commits.withLock { commits in
            var next = commits.last?.files ?? [:]
            next.merge(files) { _, new in new }
            let id = Self.id(commits.count)
            commits.append(Commit(id: id, files: next, message: message))
            return id
        }
    }

    /// A signed commit keeps its signature beside it (what the signer returned for the files).
    func commit(
        files: [String: [UInt8]],
        message: String,
        author: PersonIdentity,
        time: WallTime,
        signer: (@Sendable ([UInt8]) throws -> String)?
    ) throws(RepositoryError) -> String {
        var signature: String?
        if let signer {
            do {
                signature = try signer(Array(message.utf8))
            } catch {
                throw RepositoryError("could not sign: \(error)")
            }
        }
        let id = try commit(files: files, message: message, author: author.description, time: time)
        signatures.withLock { $0[id] = signature }
        return id
    }

    /// The signature of each signed commit.
    let signatures = Mutex<[String: String?]>([:])

    func branch() throws(RepositoryError) -> String? { detached.load(ordering: .relaxed) ? nil : "main" }

    /// A person's commit (a push), as text.
    func commit(_ files: [String: String], _ message: String = "edit by hand") {
        _ = try? commit(
            files: files.mapValues { Array($0.utf8) },
            message: message,
            author: "person",
            time: WallTime(secondsSince1970: 0)
        )
    }

    /// A file at HEAD, as text.
    func text(_ path: String) -> String? {
        commits.withLock { $0.last?.files[path].map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The commit messages, oldest first.
    var messages: [String] { commits.withLock { $0.map(\.message) } }
}

/// Records the stop and start calls; can refuse to stop, as systemd does without polkit.
final class RecordingServices: ServiceManager {
    let calls = Mutex<[String]>([])
    let refuseStop: Bool

    init(refuseStop: Bool = false) { self.refuseStop = refuseStop }

    func stop(_ units: [String]) async throws(ServiceError) -> [String] {
        if refuseStop {
            throw ServiceError(unit: units[0], message: "org.freedesktop.DBus.Error.AccessDenied: access denied")
        }
        calls.withLock { $0 += units.map { "stop \($0)" } }
        return units
    }

    func start(_ units: [String]) async throws(ServiceError) {
        calls.withLock { $0 += units.map { "start \($0)" } }
    }
}

/// A clock that says what the test tells it.
final class TestClock: WallClock {
    let seconds = Atomic<Int64>(1_795_255_200)  // 2026-11-21T10:00:00Z
    func now() -> WallTime { WallTime(secondsSince1970: seconds.load(ordering: .relaxed)) }
}

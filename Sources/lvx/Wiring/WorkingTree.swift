import Foundation
import LVXCore
import LVXGit

/// lvx reads committed files only; a person who edited `lvx.yaml` and forgot to commit is told so.
enum WorkingTree {
    /// The desired-state files whose working-tree copy differs from HEAD's (changed, new or deleted).
    static func changedDesiredFiles(_ repository: GitRepository) -> [String] {
        guard let root = repository.workingDirectory, let head = try? repository.resolve("HEAD") else { return [] }
        let fm = FileManager.default
        var paths = Set([DesiredStateLoader.siteFile])
        let profiles = DesiredStateLoader.profilesDirectory
        for name in (try? fm.contentsOfDirectory(atPath: root + profiles)) ?? [] where name.hasSuffix(".yaml") {
            paths.insert("\(profiles)/\(name)")
        }
        for path in (try? repository.list(profiles, at: head)) ?? [] {
            paths.insert(path.hasPrefix(profiles + "/") ? path : "\(profiles)/\(path)")
        }
        return paths.sorted().filter { path in
            let disk = fm.contents(atPath: root + path).map { [UInt8]($0) }
            let committed = (try? repository.file(path, at: head)) ?? nil
            return disk != committed
        }
    }

    /// Warns on standard error when the working tree holds uncommitted desired-state changes.
    static func warnIfChanged(_ options: RepositoryOptions) {
        guard let repository = try? options.open() else { return }
        let changed = changedDesiredFiles(repository)
        guard !changed.isEmpty else { return }
        Terminal.standardError.warning(
            "lvx reads committed files; uncommitted changes to \(changed.joined(separator: ", ")) are ignored (commit them first)"
        )
    }
}

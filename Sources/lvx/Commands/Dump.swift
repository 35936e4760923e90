import ArgumentParser
import Foundation
import LVXCore
import LVXYAML

extension LVXCommand {
    /// `lvx dump`: a unit's settings as a YAML profile, with the seed's constraint comments.
    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a unit's live settings as a profile (YAML with constraint comments)."
        )

        @Argument(help: "The unit: a port string, a serial number, or a unit name.")
        var unit: String

        @Option(
            help: ArgumentHelp(
                "Write the profile to this file instead of standard output, creating missing folders.",
                valueName: "file"
            )
        )
        var out: String?

        @Option(
            help: ArgumentHelp(
                "Print the settings as of this date from the unit's dumps in git history, not from the unit.",
                valueName: "date"
            )
        )
        var at: String?

        @OptionGroup var device: DeviceOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            try await execute {
                let dump: ProfileDump
                let source: String
                if let at {
                    let time = try DumpHistory.parseDate(at, endOfDay: true)
                    let history = try DumpHistory(repositoryPath: repository.path, unit: unit)
                    try history.requireKnownUnit(repositoryPath: repository.path)
                    var found: DumpHistory.Version?
                    try history.forEach(until: time) { version in
                        if version.dump.settings != nil { found = version }
                        return found == nil
                    }
                    guard let version = found, let settings = version.dump.settings
                    else {
                        throw CLIError(
                            "no dump of '\(unit)' on or before \(at)",
                            hint: "`lvx history \(unit)` lists the dumps"
                        )
                    }
                    dump = ProfileDump(settings)
                    source =
                        "the dump of \(unit) taken \(version.dump.takenAt.iso8601) (commit \(version.commit.prefix(12)))"
                } else {
                    let resolver = UnitResolver(device: device, repository: repository)
                    guard let target = try await resolver.resolve([unit]).first else { return .failure }
                    let rated = try await target.device.ratedInformation()
                    dump = ProfileDump(rated.settings)
                    let identity = [target.name, target.serial.map { "(\($0))" }].compactMap { $0 }.joined(
                        separator: " "
                    )
                    source = identity.isEmpty ? target.device.port : "\(identity) at \(target.device.port)"
                }
                let text = try ProfileText.render(dump, source: source)
                if let out {
                    try ProfileText.write(text, to: out)
                    let skipped = dump.skipped.isEmpty ? "" : " (\(dump.skipped.count) skipped)"
                    Terminal.standardError.line("wrote \(out) with \(dump.settings.count) keys\(skipped)")
                } else {
                    Terminal.standardOutput.write(text)
                }
                return .success
            }
        }
    }
}

/// Renders a profile dump through libyaml's emitter, with the constraint comments interleaved.
enum ProfileText {
    static func render(_ dump: ProfileDump, source: String) throws -> String {
        let entries = dump.settings.entries.map { entry in
            (
                comments: [entry.key.constraintComment], key: entry.key.rawValue,
                value: EmitNode.plain(entry.key.format(entry.value))
            )
        }
        return try YAMLEmitter.renderCommented(entries, header: dump.headerLines(source: source))
    }
}

extension ProfileText {
    /// Writes `text` to `path` through a temporary file and a rename, so readers never see half a
    /// file, creating the folders above it that are missing.
    static func write(_ text: String, to path: String) throws {
        func failure(_ why: String) -> CLIError { CLIError("cannot write '\(path)': \(why)") }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            var prefix = folder.hasPrefix("/") ? "/" : ""
            for component in folder.split(separator: "/") {
                prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
                if mkdir(prefix, 0o777) == 0 { continue }
                let code = errno
                var info = stat()
                if code == EEXIST, stat(prefix, &info) == 0 {
                    if info.st_mode & S_IFMT == S_IFDIR { continue }
                    throw failure("'\(prefix)' is not a folder")
                }
                throw failure("cannot create '\(prefix)': \(describe(code))")
            }
        }
        let temporary = "\(path).lvx-\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure(describe(errno)) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw failure(describe(code))
            }
            bytes = bytes.dropFirst(n)
        }
        let closed = close(fd) == 0 ? 0 : errno
        guard closed == 0, rename(temporary, path) == 0 else {
            let code = closed != 0 ? closed : errno
            unlink(temporary)
            throw failure(describe(code))
        }
    }

    /// `strerror`'s text, lower-cased: `permission denied`.
    static func describe(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

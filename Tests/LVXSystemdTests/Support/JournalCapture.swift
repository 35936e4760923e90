import Foundation

/// Runs a command with the systemd journal's socket replaced by a capture, and returns what arrived.
///
/// libsystemd always sends to `/run/systemd/journal/socket`, so the command runs in a private mount
/// namespace (`unshare --mount`, plus `--map-root-user` when not root) where a tmpfs covers
/// `/run/systemd` and `Scripts/journal_capture.py` listens at that path. The host's `/run` is not
/// touched.
enum JournalCapture {
    /// One journal entry: its fields in the order sent.
    struct Entry {
        var fields: [(name: String, value: String)]

        /// The value of the first field called `name`.
        subscript(_ name: String) -> String? {
            fields.first { $0.name == name }?.value
        }
    }

    /// Why captures cannot run on this machine, or `nil` when they can.
    static let unavailableReason: String? = {
        let probe = try? TestScripts.run(
            "/usr/bin/unshare",
            unshareArguments + ["/bin/sh", "-c", mountScript + "true"]
        )
        guard let probe else { return "cannot run /usr/bin/unshare (util-linux)" }
        guard probe.status == 0 else {
            return "a private mount namespace is not permitted here (unshare --mount with a tmpfs on /run/systemd "
                + "failed: \(probe.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))"
        }
        return nil
    }()

    /// Runs `command` under the capture with `environment` and returns its exit status and entries.
    static func run(_ command: [String], environment: [String: String]) throws -> (exit: Int, entries: [Entry]) {
        let scratch = try TestScripts.scratchDirectory("lvx-journal")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("capture.json")
        let script = mountScript + "exec \"$0\" \"$@\""
        let arguments =
            unshareArguments + [
                "/bin/sh", "-c", script,
                TestScripts.python, TestScripts.path("journal_capture.py"), output.path, "--",
            ] + command
        let result = try TestScripts.run("/usr/bin/unshare", arguments, environment: environment)
        guard result.status == 0, let data = try? Data(contentsOf: output) else {
            throw ScriptError("the journal capture failed (status \(result.status)): \(result.stderr)")
        }
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let exit = document["exit"] as? Int,
            let entries = document["entries"] as? [[[String]]]
        else {
            throw ScriptError(
                "the journal capture wrote an unexpected document: \(String(decoding: data, as: UTF8.self))"
            )
        }
        let decoded = entries.map { fields in
            Entry(fields: fields.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
        }
        return (exit, decoded)
    }

    /// A tmpfs over `/run/systemd` (or over `/run` where that folder does not exist).
    private static let mountScript =
        "if [ -d /run/systemd ]; then t=/run/systemd; else t=/run; fi; mount -t tmpfs lvx-journal \"$t\" || exit 97; "

    private static var unshareArguments: [String] {
        geteuid() == 0 ? ["--mount"] : ["--mount", "--map-root-user"]
    }
}

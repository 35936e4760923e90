internal import CSystemd
import LVXCore

/// Reports state to systemd through `sd_notify`: the real ``ServiceNotifier``.
///
/// Outside systemd (`NOTIFY_SOCKET` unset) every call is a cheap no-op. Under a unit with
/// `Type=notify` (or `NotifyAccess=`), `STATUS=` lines appear in `systemctl status`.
public struct SystemdNotifier: ServiceNotifier {
    /// What one notification did.
    public enum Outcome: Sendable, Equatable {
        /// The message was sent to the supervisor's socket.
        case sent
        /// `NOTIFY_SOCKET` is not set: not running under a supervisor, nothing was sent.
        case notSupervised
        /// Sending failed with this errno (for example `ENOENT` when the socket is gone).
        case failed(errno: Int32)
    }

    /// A notifier for the socket named by `NOTIFY_SOCKET` (read at each call).
    public init() {}

    /// Sends `STATUS=text`; line breaks in `text` become spaces.
    public func status(_ text: String) {
        send([("STATUS", text)])
    }

    /// Sends `READY=1`, with `STATUS=status` when given.
    @discardableResult
    public func ready(status: String? = nil) -> Outcome {
        send([("READY", "1")] + (status.map { [("STATUS", $0)] } ?? []))
    }

    /// Sends `STOPPING=1`, with `STATUS=status` when given.
    @discardableResult
    public func stopping(status: String? = nil) -> Outcome {
        send([("STOPPING", "1")] + (status.map { [("STATUS", $0)] } ?? []))
    }

    /// Sends the assignments, one `KEY=value` line each, in the order given.
    ///
    /// The corresponding C function is `sd_notify` (the variadic `sd_notifyf` is unavailable
    /// from Swift).
    @discardableResult
    public func send(_ assignments: [(String, String)]) -> Outcome {
        let state = Self.message(assignments)
        let result = sd_notify(0, state)
        if result > 0 { return .sent }
        if result == 0 { return .notSupervised }
        return .failed(errno: -result)
    }

    /// The datagram for `assignments`: `KEY=value` lines joined by `\n`, with any line break in a
    /// value replaced by a space (a break would start a new assignment).
    public static func message(_ assignments: [(String, String)]) -> String {
        assignments.map { key, value in
            key + "=" + String(value.map { $0.isNewline ? " " : $0 })
        }.joined(separator: "\n")
    }
}

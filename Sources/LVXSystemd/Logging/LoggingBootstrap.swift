import Foundation
import Logging

/// Chooses where lvx's logs go: the journal under systemd, standard error otherwise.
///
/// Call once at start-up: `LoggingSystem.bootstrap(LoggingBootstrap.handlerFactory())`.
public enum LoggingBootstrap {
    /// Where log records are written.
    public enum Destination: String, Sendable, Equatable {
        /// The systemd journal (``JournalLogHandler``).
        case journal
        /// Standard error (``StderrLogHandler``).
        case stderr
    }

    /// The destination for `environment`: `LVX_LOG=journal|stderr` when set to one of those,
    /// else the journal when systemd started the process (`JOURNAL_STREAM` or `INVOCATION_ID`
    /// set), else standard error.
    public static func destination(environment: [String: String]) -> Destination {
        if let override = environment["LVX_LOG"].flatMap(Destination.init(rawValue:)) { return override }
        if environment["JOURNAL_STREAM"] != nil || environment["INVOCATION_ID"] != nil { return .journal }
        return .stderr
    }

    /// A handler factory for `LoggingSystem.bootstrap`, logging at `logLevel` and above to the
    /// destination ``destination(environment:)`` picks.
    public static func handlerFactory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logLevel: Logger.Level = .info
    ) -> @Sendable (String) -> any LogHandler {
        switch destination(environment: environment) {
        case .journal:
            return { label in JournalLogHandler(label: label, logLevel: logLevel) }
        case .stderr:
            return { label in StderrLogHandler(label: label, logLevel: logLevel) }
        }
    }
}

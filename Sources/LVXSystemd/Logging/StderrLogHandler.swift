import Glibc
import Logging

/// Writes log records to standard error, one line each: the `LogHandler` for use outside systemd.
///
/// A line reads `lvx: warning: drift found LVX_UNIT=garage LVX_DRIFT_KEYS=bulk_voltage`: the label,
/// the level, the message, then the metadata as journal-style `NAME=value` pairs sorted by name.
public struct StderrLogHandler: LogHandler {
    /// The logger's label, printed first.
    public let label: String
    /// Metadata attached to every record of this handler.
    public var metadata: Logger.Metadata = [:]
    /// The lowest level logged.
    public var logLevel: Logger.Level
    /// Supplies contextual metadata at each record.
    public var metadataProvider: Logger.MetadataProvider?
    /// The descriptor written to; standard error unless a test passes another.
    public let fileDescriptor: Int32

    /// A handler for `label` writing to `fileDescriptor` (standard error by default).
    public init(
        label: String,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        fileDescriptor: Int32 = STDERR_FILENO
    ) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(metadata) { _, handler in handler }
        merged.merge(event.metadata ?? [:]) { _, record in record }
        Self.write(
            Self.line(label: label, level: event.level, message: event.message.description, metadata: merged),
            to: fileDescriptor
        )
    }

    /// The text of one record, ending in a newline.
    public static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let pairs = metadata.map { (JournalLogHandler.fieldName($0.key), JournalLogHandler.render($0.value)) }
            .sorted { $0.0 < $1.0 }
            .map { " \($0.0)=\($0.1)" }
        return "\(label): \(level): \(message)\(pairs.joined())\n"
    }

    /// Writes `text` with as few `write` calls as possible, so lines from threads do not interleave.
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

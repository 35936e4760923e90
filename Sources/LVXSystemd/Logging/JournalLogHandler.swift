internal import CSystemd
import Glibc
import Logging

/// Sends log records to the systemd journal as structured entries: a swift-log `LogHandler`.
///
/// Each record becomes one entry with `MESSAGE`, `PRIORITY` (from the level), `SYSLOG_IDENTIFIER`,
/// `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`, and one field per metadata entry with its key upper-cased
/// (`LVX_UNIT`, `LVX_SERIAL`, `LVX_PLAN_ID`, `LVX_DRIFT_KEYS`, `LVX_EXIT`), so that
/// `journalctl LVX_UNIT=garage` finds a unit's records.
///
/// libsystemd drops an entry silently when journald is absent; when sending fails for another
/// reason the record is written to standard error instead.
public struct JournalLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    /// The `SYSLOG_IDENTIFIER` of every entry.
    public var identifier: String
    /// Metadata attached to every record of this handler.
    public var metadata: Logger.Metadata = [:]
    /// The lowest level logged.
    public var logLevel: Logger.Level
    /// Supplies contextual metadata at each record.
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler for `label` whose entries carry `SYSLOG_IDENTIFIER=identifier`.
    public init(
        label: String,
        identifier: String = "lvx",
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(metadata) { _, handler in handler }
        merged.merge(event.metadata ?? [:]) { _, record in record }
        let fields = Self.fields(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            identifier: identifier,
            file: event.file,
            function: event.function,
            line: event.line
        )
        if Self.send(fields) < 0 {
            StderrLogHandler.write(
                StderrLogHandler.line(
                    label: label,
                    level: event.level,
                    message: event.message.description,
                    metadata: merged
                ),
                to: STDERR_FILENO
            )
        }
    }

    /// The journal fields for one record, as `NAME=value` strings in sending order.
    ///
    /// Metadata follows the handler's own fields, sorted by field name; a key that would clash
    /// with one of them (or is empty after cleaning) is prefixed with `META_`.
    public static func fields(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        identifier: String = "lvx",
        file: String? = nil,
        function: String? = nil,
        line: UInt? = nil
    ) -> [String] {
        var fields = [
            "MESSAGE=" + message,
            "PRIORITY=\(priority(of: level))",
            "SYSLOG_IDENTIFIER=" + identifier,
        ]
        if let file { fields.append("CODE_FILE=" + file) }
        if let line { fields.append("CODE_LINE=\(line)") }
        if let function { fields.append("CODE_FUNC=" + function) }
        let reserved: Set<String> = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"]
        let named = metadata.map { key, value -> (String, String) in
            let name = fieldName(key)
            return (reserved.contains(name) || name.isEmpty ? "META_" + name : name, render(value))
        }
        for (name, value) in named.sorted(by: { $0.0 < $1.0 }) {
            fields.append(name + "=" + value)
        }
        return fields
    }

    /// The syslog priority journald stores for a swift-log level (`0` emerg … `7` debug).
    public static func priority(of level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A metadata key as a journal field name: upper-cased, with anything other than `A-Z`, `0-9`
    /// and `_` replaced by `_`, leading underscores dropped (journald reserves them), prefixed
    /// `F_` when it would start with a digit, and at most 64 characters.
    public static func fieldName(_ key: String) -> String {
        var name = String(
            key.uppercased().unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "A"..."Z", "0"..."9", "_": Character(scalar)
                default: "_"
                }
            }
        )
        name = String(name.drop { $0 == "_" })
        if let first = name.first, first.isNumber { name = "F_" + name }
        return String(name.prefix(64))
    }

    /// A metadata value as field text: strings as they are, arrays as comma-separated elements.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): items.map(render).joined(separator: ",")
        case .dictionary: value.description
        }
    }

    /// Sends one entry; returns `sd_journal_sendv`'s result (negative errno on failure).
    ///
    /// Values may contain line breaks: libsystemd then uses the journal's binary field encoding.
    /// The corresponding C function is `sd_journal_sendv`.
    static func send(_ fields: [String]) -> Int32 {
        let bytes = fields.map { Array($0.utf8) }
        let total = bytes.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var vectors: [iovec] = []
        vectors.reserveCapacity(bytes.count)
        var offset = 0
        for field in bytes {
            let start = storage.baseAddress.map { $0 + offset }
            UnsafeMutableRawBufferPointer(rebasing: storage[offset..<offset + field.count]).copyBytes(from: field)
            vectors.append(iovec(iov_base: start, iov_len: field.count))
            offset += field.count
        }
        return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
    }
}

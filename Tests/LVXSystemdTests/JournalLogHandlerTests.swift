import Foundation
import Logging
import Testing

@testable import LVXSystemd

/// The journal fields `JournalLogHandler` builds, and what really reaches a journal socket.
@Suite
struct JournalLogHandlerTests {
    @Test("a record becomes MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_* and upper-cased metadata fields")
    func fieldsOfOneRecord() {
        let fields = JournalLogHandler.fields(
            level: .warning,
            message: "drift found on garage",
            metadata: [
                "lvx_unit": "garage",
                "LVX_DRIFT_KEYS": .array(["bulk_voltage", "float_voltage"]),
                "lvx_exit": .stringConvertible(2),
            ],
            file: "lvx/Run.swift",
            function: "run()",
            line: 42
        )

        #expect(
            fields == [
                "MESSAGE=drift found on garage",
                "PRIORITY=4",
                "SYSLOG_IDENTIFIER=lvx",
                "CODE_FILE=lvx/Run.swift",
                "CODE_LINE=42",
                "CODE_FUNC=run()",
                "LVX_DRIFT_KEYS=bulk_voltage,float_voltage",
                "LVX_EXIT=2",
                "LVX_UNIT=garage",
            ]
        )
    }

    @Test(
        "swift-log levels map to syslog priorities",
        arguments: [
            (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
    )
    func priorities(level: Logger.Level, priority: Int) {
        #expect(JournalLogHandler.priority(of: level) == priority)
    }

    @Test(
        "metadata keys become valid journal field names",
        arguments: [
            ("lvx_plan_id", "LVX_PLAN_ID"), ("plan-id", "PLAN_ID"), ("_hidden", "HIDDEN"), ("9lives", "F_9LIVES"),
            ("unit.name", "UNIT_NAME"), ("ünit", "NIT"),
            (String(repeating: "a", count: 70), String(repeating: "A", count: 64)),
        ]
    )
    func fieldNames(key: String, name: String) {
        #expect(JournalLogHandler.fieldName(key) == name)
    }

    @Test("metadata that would clash with the handler's own fields is prefixed, not lost")
    func clashingKeysArePrefixed() {
        let fields = JournalLogHandler.fields(level: .info, message: "m", metadata: ["message": "other", "-": "x"])

        #expect(fields == ["MESSAGE=m", "PRIORITY=6", "SYSLOG_IDENTIFIER=lvx", "META_=x", "META_MESSAGE=other"])
    }

    @Test(
        "records logged under systemd arrive in the journal socket with all their fields",
        .enabled(if: JournalCapture.unavailableReason == nil, Comment(rawValue: JournalCapture.unavailableReason ?? ""))
    )
    func recordsReachTheJournal() throws {
        let result = try JournalCapture.run(childCommand, environment: childEnvironment(["INVOCATION_ID": "0123abcd"]))

        #expect(result.exit == 0)
        try #require(result.entries.count == 3)
        let drift = result.entries[0]
        #expect(drift["MESSAGE"] == "drift found on garage")
        #expect(drift["PRIORITY"] == "4")
        #expect(drift["SYSLOG_IDENTIFIER"] == "lvx")
        #expect(drift["LVX_UNIT"] == "garage")
        #expect(drift["LVX_SERIAL"] == "96332309100452")
        #expect(drift["LVX_PLAN_ID"] == "2026-05-01T10-00-00Z-garage")
        #expect(drift["LVX_DRIFT_KEYS"] == "bulk_voltage,float_voltage")
        #expect(drift["LVX_EXIT"] == "2")
        #expect(drift["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(drift["CODE_FUNC"]?.hasPrefix("journalCaptureChild") == true)

        let failure = result.entries[1]
        #expect(failure["MESSAGE"] == "apply failed\nread-back of bulk_voltage gave 56.0")
        #expect(failure["PRIORITY"] == "3")

        let handlerMetadata = result.entries[2]
        #expect(handlerMetadata["MESSAGE"] == "unit in sync")
        #expect(handlerMetadata["PRIORITY"] == "6")
        #expect(handlerMetadata["LVX_UNIT"] == "shed")
    }

    @Test(
        "with LVX_LOG=stderr nothing goes to the journal, even under systemd",
        .enabled(if: JournalCapture.unavailableReason == nil, Comment(rawValue: JournalCapture.unavailableReason ?? ""))
    )
    func stderrOverrideBypassesTheJournal() throws {
        let environment = childEnvironment(["INVOCATION_ID": "0123abcd", "LVX_LOG": "stderr"])

        let result = try JournalCapture.run(childCommand, environment: environment)

        #expect(result.exit == 0)
        #expect(result.entries.isEmpty)
    }

    /// Runs inside the capture (started by the tests above): logs three records and one that the
    /// level filters out, through the handler `LoggingBootstrap` picks for this environment.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LVX_JOURNAL_CHILD"] == "1"))
    func journalCaptureChild() {
        let factory = LoggingBootstrap.handlerFactory()
        var logger = Logger(label: "lvx.test", factory: factory)
        logger.warning(
            "drift found on garage",
            metadata: [
                "lvx_unit": "garage",
                "lvx_serial": "96332309100452",
                "lvx_plan_id": "2026-05-01T10-00-00Z-garage",
                "lvx_drift_keys": .array(["bulk_voltage", "float_voltage"]),
                "lvx_exit": .stringConvertible(2),
            ]
        )
        logger.error("apply failed\nread-back of bulk_voltage gave 56.0")
        logger.debug("below the level: never sent")
        logger[metadataKey: "lvx_unit"] = "shed"
        logger.info("unit in sync")
    }

    /// This test binary, asked to run only ``journalCaptureChild()``.
    private var childCommand: [String] {
        [CommandLine.arguments[0], "--testing-library", "swift-testing", "--filter", "journalCaptureChild"]
    }

    private func childEnvironment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["LVX_LOG", "JOURNAL_STREAM", "INVOCATION_ID"] { environment[key] = nil }
        environment["LVX_JOURNAL_CHILD"] = "1"
        environment.merge(extra) { _, new in new }
        return environment
    }
}

import Foundation
import LVXSystemd
import Logging
import Testing

/// Choosing the log destination, and the stderr handler's lines.
struct LoggingBootstrapTests {
    @Test(
        "the journal is chosen under systemd, stderr otherwise, and LVX_LOG overrides both",
        arguments: [
            ([:], LoggingBootstrap.Destination.stderr),
            (["JOURNAL_STREAM": "8:12345"], .journal),
            (["INVOCATION_ID": "0123abcd"], .journal),
            (["INVOCATION_ID": "0123abcd", "LVX_LOG": "stderr"], .stderr),
            (["LVX_LOG": "journal"], .journal),
            (["LVX_LOG": "syslog"], .stderr),
            (["LVX_LOG": "syslog", "JOURNAL_STREAM": "8:1"], .journal),
        ]
    )
    func destination(environment: [String: String], expected: LoggingBootstrap.Destination) {
        #expect(LoggingBootstrap.destination(environment: environment) == expected)
    }

    @Test("the factory builds the handler for the chosen destination at the given level")
    func factoryBuildsTheRightHandler() {
        let journal = LoggingBootstrap.handlerFactory(environment: ["INVOCATION_ID": "x"], logLevel: .debug)("lvx")
        let stderr = LoggingBootstrap.handlerFactory(environment: [:])("lvx")

        #expect(journal is JournalLogHandler)
        #expect(journal.logLevel == .debug)
        #expect(stderr is StderrLogHandler)
        #expect(stderr.logLevel == .info)
    }

    @Test("the stderr handler writes one line per record with sorted NAME=value metadata")
    func stderrLines() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let writeEnd = ends[1]
        var logger = Logger(label: "lvx") { StderrLogHandler(label: $0, fileDescriptor: writeEnd) }
        logger[metadataKey: "lvx_unit"] = "garage"

        logger.warning("drift found", metadata: ["lvx_drift_keys": .array(["bulk_voltage", "float_voltage"])])
        logger.debug("not shown at the default level")
        logger.error("read failed")
        close(writeEnd)

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while case let count = read(ends[0], &buffer, buffer.count), count > 0 { output += buffer.prefix(count) }
        #expect(
            String(decoding: output, as: UTF8.self)
                == "lvx: warning: drift found LVX_DRIFT_KEYS=bulk_voltage,float_voltage LVX_UNIT=garage\n"
                + "lvx: error: read failed LVX_UNIT=garage\n"
        )
    }
}

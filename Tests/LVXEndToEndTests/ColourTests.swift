import Foundation
import LVXTestSupport
import Testing

/// Colour on a terminal, and the environment that turns it off (no-color.org, `TERM=dumb`).
@Suite("colour end to end")
struct ColourTests {
    static let red = "\u{1B}[31merror:\u{1B}[0m"

    /// Runs the built `lvx` with its standard error on a pseudo-terminal, with `NO_COLOR` and
    /// `TERM` removed from this process's environment before `environment` is added, and returns
    /// what the terminal received.
    static func onTerminal(_ arguments: [String], environment: [String: String]) throws -> String {
        var controller: Int32 = -1
        var terminal: Int32 = -1
        guard openpty(&controller, &terminal, nil, nil, nil) == 0 else {
            throw SimulatorError(message: "openpty failed: errno \(errno)")
        }
        defer { close(controller) }
        let process = Process()
        process.executableURL = PackagePaths.productsDirectory().appendingPathComponent("lvx")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = nil
        env["TERM"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(fileDescriptor: terminal, closeOnDealloc: false)
        try process.run()
        close(terminal)
        // Read until the child's end of the terminal is closed (read fails with EIO).
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(controller, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        process.waitUntilExit()
        return String(decoding: received, as: UTF8.self)
    }

    static let failing = ["history", "lvx6048-1", "--since", "not-a-date"]

    @Test("an error on a terminal is coloured, also when NO_COLOR is set but empty")
    func coloured() throws {
        #expect(try Self.onTerminal(Self.failing, environment: ["TERM": "xterm"]).hasPrefix(Self.red))
        #expect(try Self.onTerminal(Self.failing, environment: ["TERM": "xterm", "NO_COLOR": ""]).hasPrefix(Self.red))
    }

    @Test(
        "a non-empty NO_COLOR or TERM=dumb turns colour off",
        arguments: [["TERM": "xterm", "NO_COLOR": "1"], ["TERM": "dumb"]]
    )
    func plain(_ environment: [String: String]) throws {
        let text = try Self.onTerminal(Self.failing, environment: environment)
        #expect(text.hasPrefix("error: 'not-a-date' is not a date"), "\(text)")
        #expect(!text.contains("\u{1B}["))
    }
}

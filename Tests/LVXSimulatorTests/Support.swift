import Foundation
import LVXCore
import LVXSimulator
import LVXWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Builds request frames the way a client would, including ones lvx itself can never build.
enum Frames {
    /// `^` + P/S + length + payload + CRC (with the 0x28/0x0D/0x0A fix-up) + CR.
    static func request(_ type: Character, _ payload: String, crc: Bool = true) -> [UInt8] {
        let body = Array(payload.utf8)
        let length = String(body.count + 3)
        var frame: [UInt8] = [0x5E, type == "P" ? 0x50 : 0x53]
        frame += Array((String(repeating: "0", count: 3 - length.count) + length).utf8) + body
        if crc {
            let (h, l) = PI18CRC.wireBytes(frame)
            frame += [h, l]
        }
        return frame + [0x0D]
    }

    static func query(_ payload: String) -> [UInt8] { request("P", payload) }
    static func setter(_ payload: String) -> [UInt8] { request("S", payload) }
}

/// A unit of the seeds site, by position (0: master 96142109100037, 1: 96142408100255).
func seedUnit(_ index: Int) -> SimulatedInverter { SimulatorSites.seeds()[index] }

func serial(_ digits: String) throws -> SerialNumber { try #require(SerialNumber(digits)) }

/// Sends one frame to a unit standing alone and parses the reply.
func ask(_ unit: inout SimulatedInverter, _ frame: [UInt8]) throws -> PI18Reply {
    try PI18Reply.parse(unit.respond(to: frame))
}

/// The data fields of a reply, failing the test if it is not a data reply.
func fields(_ reply: PI18Reply) throws -> [String] {
    guard case .data(let fields) = reply else {
        throw TestFailure("expected a data reply, got \(reply)")
    }
    return fields
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Sends a frame to a unit of a site and returns the exchange.
func exchange(
    _ site: inout SimulatedSite,
    _ serial: SerialNumber,
    _ frame: [UInt8],
    baud: Int = 0
) throws
    -> SimulatedExchange
{
    let result = site.handle(frame: frame, at: serial, baud: baud)
    return try #require(result)
}

/// The reply of an exchange (its last chunk), parsed.
func reply(_ exchange: SimulatedExchange) throws -> PI18Reply {
    try PI18Reply.parse(try #require(exchange.output.last))
}

/// Paths the tests use.
enum TestPaths {
    /// The package root: three levels above this file (`Tests/LVXSimulatorTests/Support.swift`).
    static func packageRoot(_ file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `<package root>/../shared/reference/pi18-captures.json`.
    static func captures() -> URL {
        let shared = packageRoot().deletingLastPathComponent().appendingPathComponent(
            "shared/reference/pi18-captures.json"
        )
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        // A clone without ../shared beside it: the vendored copy (the wire tests check they match).
        return packageRoot().appendingPathComponent("Tests/LVXWireTests/Fixtures/pi18-captures.json")
    }

    /// The built `lvx-sim` binary.
    ///
    /// Looked up in order: `$LVX_SIM` (the binary itself), `$LVX_BIN_DIR/lvx-sim`, then the directory
    /// holding the running test bundle and its parents (`swift build`/`swift test` put `lvx-sim` in
    /// the same build products directory as `lvxPackageTests.xctest`), then `<root>/.build/debug`.
    static func simulatorBinary() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let path = environment["LVX_SIM"] { candidates.append(URL(fileURLWithPath: path)) }
        if let dir = environment["LVX_BIN_DIR"] {
            candidates.append(URL(fileURLWithPath: dir).appendingPathComponent("lvx-sim"))
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("lvx-sim"))
        }
        candidates.append(packageRoot().appendingPathComponent(".build/debug/lvx-sim"))
        for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) { return url }
        throw TestFailure(
            "lvx-sim not found (looked in \(candidates.map(\.path).joined(separator: ", "))); run `swift build` first"
        )
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A client end of a pty or TCP connection, with timeouts so a broken simulator fails instead of hanging.
final class TestClient {
    let fd: Int32

    /// Opens a pty path; `raw` sets raw mode as a serial client would.
    init(ptyPath: String, raw: Bool) throws {
        fd = open(ptyPath, O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw TestFailure("cannot open \(ptyPath): errno \(errno)") }
        if raw {
            var t = termios()
            tcgetattr(fd, &t)
            cfmakeraw(&t)
            tcsetattr(fd, TCSANOW, &t)
        }
    }

    /// Connects to 127.0.0.1:port.
    init(tcpPort: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(tcpPort).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw TestFailure("cannot connect to 127.0.0.1:\(tcpPort): errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Writes a frame as a hidraw client does: 8-byte reports, the last padded with 0x00.
    func sendReports(_ frame: [UInt8]) {
        var offset = 0
        while offset < frame.count {
            var chunk = Array(frame[offset..<min(offset + 8, frame.count)])
            chunk += Array(repeating: 0, count: 8 - chunk.count)
            send(chunk)
            offset += 8
        }
    }

    /// Reads until `count` CRs have arrived (and, for hidraw, the rest of the last report), or the timeout.
    func read(untilCRs count: Int = 1, timeout: Double = 60, settle: Double = 0.05) -> [UInt8] {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 512)
        while out.filter({ $0 == 0x0D }).count < count && Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        // Collect the padding that completes the last report.
        let end = Date().addingTimeInterval(settle)
        while Date() < end {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}

/// The frame up to and including the first CR.
func firstFrame(_ bytes: [UInt8]) -> [UInt8] {
    guard let cr = bytes.firstIndex(of: 0x0D) else { return bytes }
    return Array(bytes[...cr])
}

/// The lines of a unit's request log file.
func logLines(_ directory: URL, _ serial: String) throws -> [RequestLogEntry] {
    let text = try String(contentsOf: directory.appendingPathComponent("\(serial).log"), encoding: .utf8)
    return try text.split(separator: "\n").map { try #require(RequestLogEntry(line: String($0))) }
}

import Foundation
import Glibc
import LVXCore
import Testing

@testable import LVXPort

/// `hidraw:` and `serial:` ports that name something other than a character device are refused
/// before a single byte is read or written, and every open error says why it failed.
@Suite struct DeviceNodeTests {
    /// A scratch directory holding a 2 MiB regular file of known bytes (more than one drain reads).
    final class Scratch {
        let directory: String
        let file: String
        let bytes: [UInt8]

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("lvx-node-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            file = directory + "/inverter"
            bytes = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Size, modification time and change time of `path`.
        func stamp(_ path: String) throws -> [Int] {
            var info = stat()
            try #require(stat(path, &info) == 0)
            return [
                Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec, info.st_ctim.tv_sec,
                info.st_ctim.tv_nsec,
            ]
        }
    }

    static let addresses: [@Sendable (String) -> PortAddress] = [
        { .hidraw(path: $0) }, { .serial(path: $0, baud: 2400) },
    ]

    @Test("a regular file is refused at open: nothing written, size and times unchanged", arguments: [0, 1])
    func regularFile(kind: Int) async throws {
        let scratch = try Scratch()
        let before = try scratch.stamp(scratch.file)
        let address = Self.addresses[kind](scratch.file)
        let client = PI18Client(address: address, timing: fastTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }

        #expect(error?.kind == .open)
        #expect(error?.openFailure == .notACharacterDevice)
        #expect(error?.attempts == 1)
        #expect(
            error?.description == "\(address): ID: cannot open the port: not a character device (a regular file)"
        )
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: scratch.file))) == scratch.bytes)
        #expect(try scratch.stamp(scratch.file) == before)
    }

    @Test("a directory is refused at open, and stays empty", arguments: [0, 1])
    func directory(kind: Int) async throws {
        let scratch = try Scratch()
        try FileManager.default.removeItem(atPath: scratch.file)
        let before = try scratch.stamp(scratch.directory)
        let address = Self.addresses[kind](scratch.directory)
        let client = PI18Client(address: address, timing: fastTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }

        #expect(error?.kind == .open)
        #expect(error?.openFailure == .notACharacterDevice)
        #expect(error?.description == "\(address): ID: cannot open the port: not a character device (a directory)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.directory).isEmpty)
        #expect(try scratch.stamp(scratch.directory) == before)
    }

    @Test("a setter to a regular file is not sent either")
    func setterToRegularFile() async throws {
        let scratch = try Scratch()
        let before = try scratch.stamp(scratch.file)
        let client = PI18Client(address: .hidraw(path: scratch.file), timing: fastTiming)

        let error = await #expect(throws: DeviceError.self) {
            try await client.write(.maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 0))
        }

        #expect(error?.kind == .open)
        #expect(error?.openFailure == .notACharacterDevice)
        #expect(error?.detail == "cannot open the port: not a character device (a regular file); nothing was sent")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: scratch.file))) == scratch.bytes)
        #expect(try scratch.stamp(scratch.file) == before)
    }

    @Test("file types are named in words")
    func typeNames() {
        #expect(DeviceNode.describe(S_IFREG) == "a regular file")
        #expect(DeviceNode.describe(S_IFDIR) == "a directory")
        #expect(DeviceNode.describe(S_IFIFO) == "a FIFO")
        #expect(DeviceNode.describe(S_IFBLK) == "a block device")
        #expect(DeviceNode.describe(S_IFSOCK) == "a socket")
    }

    @Test(
        "open errors carry their cause, taken from errno",
        arguments: [
            (EACCES, DeviceError.OpenFailure.permissionDenied), (EPERM, .permissionDenied),
            (ENOENT, .noSuchDevice), (ENXIO, .noSuchDevice), (ENODEV, .noSuchDevice),
            (ECONNREFUSED, .connectionRefused), (ENOTTY, .notATerminal), (EBUSY, .busy),
            (EIO, .other), (ETIMEDOUT, .other),
        ]
    )
    func causeFromErrno(code: Int32, cause: DeviceError.OpenFailure) {
        #expect(DeviceError.OpenFailure(errno: code) == cause)
        #expect(Syscall.error("open", port: "hidraw:/x", kind: .open, code: code).openFailure == cause)
        #expect(Syscall.error("read", port: "hidraw:/x", kind: .io, code: code).openFailure == nil)
    }

    @Test("a missing node is noSuchDevice; a character device that is no tty, on serial:, is notATerminal")
    func causesThroughTheClient() async throws {
        let missing = PI18Client(address: .hidraw(path: "/dev/lvx-no-such-node"), timing: fastTiming)
        let gone = await #expect(throws: DeviceError.self) { try await missing.serialNumber() }
        #expect(gone?.openFailure == .noSuchDevice)

        let null = PI18Client(address: .serial(path: "/dev/null", baud: 2400), timing: fastTiming)
        let notTTY = await #expect(throws: DeviceError.self) { try await null.serialNumber() }
        #expect(notTTY?.kind == .open)
        #expect(notTTY?.openFailure == .notATerminal)
        #expect(
            notTTY?.description
                == "serial:/dev/null: ID: cannot open the port: tcgetattr: inappropriate ioctl for device (errno 25)"
        )

        let baud = PI18Client(address: .serial(path: "/dev/null", baud: 1234), timing: fastTiming)
        let unsupported = await #expect(throws: DeviceError.self) { try await baud.serialNumber() }
        #expect(unsupported?.openFailure == .other)
    }

    @Test("a refused TCP connection is connectionRefused")
    func refusedConnection() async throws {
        let responder = try Responder(tcpFraming: .stream, script: Inverter.healthy(serial: serialA))
        let port = responder.tcpPort
        responder.stop()
        let client = PI18Client(address: .tcp(host: "127.0.0.1", port: port), timing: fastTiming)
        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .open)
        #expect(error?.openFailure == .connectionRefused)
    }

    @Test("errors that are not open errors carry no cause")
    func noCauseOtherwise() async throws {
        let responder = try Responder(framing: .stream) { _, _ in .silent }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: fastTiming)
        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .timeout)
        #expect(error?.openFailure == nil)
    }
}

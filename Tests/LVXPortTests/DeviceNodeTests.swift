import Foundation
import Glibc
import LVXCore
import Testing

@testable import LVXPort

/// `hidraw:` and `serial:` ports that name something other than a character device are refused
/// before a single byte is read or written.
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
}

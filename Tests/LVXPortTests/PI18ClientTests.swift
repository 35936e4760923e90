import Foundation
import Glibc
import LVXCore
import LVXWire
import Testing

@testable import LVXPort

/// Short timing for tests that wait out a silent device: 3 attempts of 0.5 s, 20 ms apart (bound 1.54 s).
let fastTiming = PI18Client.Timing(
    attemptTimeout: .milliseconds(500),
    attempts: 3,
    pause: .milliseconds(20),
    setterTimeout: .milliseconds(500)
)

/// Timing for tests whose device answers: an answer never comes late, however loaded the machine
/// is, so the test asserts what was exchanged and not how fast.
let patientTiming = PI18Client.Timing(
    attemptTimeout: .seconds(20),
    attempts: 3,
    pause: .milliseconds(20),
    setterTimeout: .seconds(20)
)

let serialA = "96161704100242"
let serialB = "96142109100037"

@Suite struct PI18ClientTests {
    @Test("hidraw: the request goes out as zero-padded 8-byte reports and a padded reply decodes")
    func hidrawOnTheWire() async throws {
        let responder = try Responder(framing: .hidraw, script: Inverter.healthy(serial: serialA))
        defer { responder.stop() }
        let client = PI18Client(address: .hidraw(path: responder.path), timing: patientTiming)

        let rated = try await client.ratedInformation()

        #expect(
            responder.received == [
                0x5E, 0x50, 0x30, 0x30, 0x37, 0x50, 0x49, 0x52,
                0x49, 0xEE, 0x38, 0x0D, 0x00, 0x00, 0x00, 0x00,
            ]
        )
        #expect(rated.settings[.bulkVoltage] == SettingValue(raw: 554))
        #expect(rated.settings[.floatVoltage] == SettingValue(raw: 540))
        #expect(rated.settings[.maxChargingCurrent] == SettingValue(raw: 60))
        #expect(rated.batteryRatedVoltage == 480)
        // A second exchange on the same open port: the first reply's padding must not leak into it.
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(try await client.workingMode().code == "05")
        #expect(responder.requests == ["PIRI", "ID", "MOD"])
    }

    @Test("hidraw report splitting: 8-byte slices, the last padded with zeros")
    func hidrawReports() {
        #expect(
            HidrawTransport.reports(for: PI18Query.generalStatus.frame.bytes) == [
                [0x5E, 0x50, 0x30, 0x30, 0x35, 0x47, 0x53, 0x58],
                [0x14, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            ]
        )
        #expect(HidrawTransport.reports(for: Array(0..<16)) == [Array(0..<8), Array(8..<16)])
        #expect(HidrawTransport.reports(for: []) == [])
    }

    @Test("serial: raw mode at the requested baud, every query decodes")
    func serialMode() async throws {
        let responder = try Responder(framing: .stream, script: Inverter.healthy(serial: serialB))
        defer { responder.stop() }
        let client = PI18Client(
            address: try PortAddress(parsing: "serial:\(responder.path)?baud=9600"),
            timing: patientTiming
        )

        #expect(try await client.serialNumber() == SerialNumber(serialB))
        #expect(
            try await client.firmwareVersions() == FirmwareVersions(main: "05220", slave1: "00000", slave2: "00000")
        )
        #expect(try await client.protocolID() == "18")
        #expect(try await client.chargingCurrentOptions() == [10, 20, 30, 40, 50, 60, 70, 80])
        #expect(responder.received.starts(with: PI18Query.serialNumber.frame.bytes))

        // The client configured the shared line discipline: raw, 9600 baud.
        let fd = open(responder.path, O_RDWR | O_NOCTTY)
        defer { close(fd) }
        var settings = termios()
        #expect(tcgetattr(fd, &settings) == 0)
        #expect(cfgetospeed(&settings) == speed_t(B9600))
        #expect(settings.c_lflag & tcflag_t(ICANON) == 0)
        #expect(settings.c_cflag & tcflag_t(CLOCAL) != 0)
        #expect(settings.c_cflag & tcflag_t(CRTSCTS) == 0)
    }

    @Test("tcp: a raw bridge on 127.0.0.1")
    func tcp() async throws {
        let responder = try Responder(tcpFraming: .stream, script: Inverter.healthy(serial: serialA))
        defer { responder.stop() }
        let client = PI18Client(address: .tcp(host: "127.0.0.1", port: responder.tcpPort), timing: patientTiming)

        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(try await client.ratedInformation().settings[.outputSourcePriority] == SettingValue(raw: 0))
        #expect(responder.requests == ["ID", "PIRI"])
        #expect(client.port == "tcp://127.0.0.1:\(responder.tcpPort)")
    }

    @Test("tcp: a refused connection fails at once as an open error")
    func tcpRefused() async throws {
        // Bind a port, then close it, so nothing listens there.
        let responder = try Responder(tcpFraming: .stream, script: Inverter.healthy(serial: serialA))
        let port = responder.tcpPort
        responder.stop()
        let client = PI18Client(address: .tcp(host: "127.0.0.1", port: port), timing: fastTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .open)
        #expect(error?.attempts == 1)
        #expect(error?.description.contains("connect: connection refused") == true)
    }

    @Test("a reply split across many small writes is reassembled", arguments: [Responder.Framing.stream, .hidraw])
    func splitReply(framing: Responder.Framing) async throws {
        let responder = try Responder(framing: framing) { request, _ in
            guard case .reply(let bytes) = Inverter.answer(request, serial: serialA) else { return .silent }
            let pieces =
                framing == .hidraw
                ? stride(from: 0, to: bytes.count, by: 8).map { Array(bytes[$0..<min($0 + 8, bytes.count)]) }
                : bytes.map { [$0] }
            return .pieces(pieces, gap: .milliseconds(2))
        }
        defer { responder.stop() }
        let client = PI18Client(address: address(framing, responder.path), timing: patientTiming)

        #expect(try await client.ratedInformation().settings[.cutoffVoltage] == SettingValue(raw: 480))
        #expect(responder.requests == ["PIRI"])
    }

    @Test(
        "stale bytes waiting before a request are drained, not taken as the reply",
        arguments: [Responder.Framing.stream, .hidraw]
    )
    func staleInputDrained(framing: Responder.Framing) async throws {
        let responder = try Responder(framing: framing, script: Inverter.healthy(serial: serialA))
        defer { responder.stop() }
        let client = PI18Client(address: address(framing, responder.path), timing: patientTiming)
        // A complete, valid ID reply for another unit is waiting before the port is even opened...
        responder.inject(PI18Reply.encodeData(Inverter.idPayload(serialB)))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        // ...and again between two exchanges on the open port.
        responder.inject(PI18Reply.encodeData(Inverter.idPayload(serialB)) + [0x41, 0x42])
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(responder.requests == ["ID", "ID"])
    }

    @Test("a dropped reply is retried and the second answer is used")
    func droppedReply() async throws {
        let responder = try Responder(framing: .hidraw) { request, count in
            count == 1 ? .silent : Inverter.answer(request, serial: serialA)
        }
        defer { responder.stop() }
        // Attempts of 0.5 s, so the dropped one is waited out quickly; enough of them that a
        // loaded machine answering late only adds attempts.
        let timing = PI18Client.Timing(attemptTimeout: .milliseconds(500), attempts: 20, pause: .milliseconds(20))
        let client = PI18Client(address: .hidraw(path: responder.path), timing: timing)

        let start = ContinuousClock.now
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(ContinuousClock.now - start >= .milliseconds(500))
        #expect(responder.requests.count >= 2)
        #expect(responder.requests.allSatisfy { $0 == "ID" })
    }

    @Test("a reply with a bad CRC is retried, never decoded")
    func corruptedCRC() async throws {
        let responder = try Responder(framing: .stream) { request, count in
            guard count == 1 else { return Inverter.answer(request, serial: serialA) }
            return .reply(Inverter.corruptingCRC(PI18Reply.encodeData(Inverter.idPayload(serialB))))
        }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(responder.requests == ["ID", "ID"])
    }

    @Test("a bad CRC on every attempt gives a bad-reply error naming port, command and CRC")
    func corruptedCRCAlways() async throws {
        let responder = try Responder(framing: .stream) { _, _ in
            .reply(Inverter.corruptingCRC(PI18Reply.encodeData(Inverter.idPayload(serialB))))
        }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .badReply)
        #expect(error?.attempts == 3)
        #expect(error?.port == "serial:\(responder.path)")
        #expect(error?.command == "ID")
        #expect(error?.detail.hasPrefix("reply CRC is 0x") == true)
        #expect(responder.requests.count == 3)
    }

    @Test("garbage before the reply frame is skipped without a retry")
    func garbageBeforeReply() async throws {
        let responder = try Responder(framing: .stream) { request, count in
            guard case .reply(let bytes) = Inverter.answer(request, serial: serialA) else { return .silent }
            // Noise with a stray '^', then a noise line ending in CR, then the frame.
            return count == 1 ? .reply([0xFF, 0x13, 0x5E, 0x7A] + bytes) : .reply([0x00, 0x00, 0x21, 0x0D] + bytes)
        }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        #expect(responder.requests == ["ID", "ID"])
    }

    @Test("an acknowledgement where data was expected is retried")
    func wrongKind() async throws {
        let responder = try Responder(framing: .hidraw) { request, count in
            count == 1 ? .reply(PI18Reply.acceptedFrame) : Inverter.answer(request, serial: serialA)
        }
        defer { responder.stop() }
        let client = PI18Client(address: .hidraw(path: responder.path), timing: patientTiming)

        #expect(try await client.workingMode().code == "05")
        #expect(responder.requests == ["MOD", "MOD"])
    }

    @Test("a reply that parses but does not decode (another command's reply) is retried")
    func undecodableReply() async throws {
        let responder = try Responder(framing: .stream) { request, count in
            count == 1 ? .reply(PI18Reply.encodeData("18")) : Inverter.answer(request, serial: serialA)
        }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        #expect(try await client.ratedInformation().settings[.batteryType] == SettingValue(raw: 2))
        #expect(responder.requests == ["PIRI", "PIRI"])
    }

    @Test("a query refused with ^0 on every attempt is a refused error")
    func refusedQuery() async throws {
        let responder = try Responder(framing: .stream) { _, _ in .reply(PI18Reply.refusedFrame) }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.generalStatus() }
        #expect(error?.kind == .refused)
        #expect(error?.attempts == 3)
        #expect(
            error?.description == "serial:\(responder.path): GS: the inverter answered ^0 (refused) after 3 attempts"
        )
    }

    @Test("a device that never answers fails with a timeout within the stated bound")
    func neverAnswers() async throws {
        let responder = try Responder(framing: .hidraw) { _, _ in .silent }
        defer { responder.stop() }
        let client = PI18Client(address: .hidraw(path: responder.path), timing: fastTiming)

        let start = ContinuousClock.now
        let error = await #expect(throws: DeviceError.self) { try await client.ratedInformation() }
        let elapsed = ContinuousClock.now - start

        #expect(fastTiming.queryBound == .milliseconds(1540))
        // Each attempt waits out its whole timeout. How long that takes on a loaded machine is a
        // benchmark matter (bench/), never a test's: a client that never gave up would not return.
        #expect(elapsed >= .milliseconds(1500))
        #expect(error?.kind == .timeout)
        #expect(error?.attempts == 3)
        #expect(
            error?.description == "hidraw:\(responder.path): PIRI: no complete reply within 500 ms after 3 attempts"
        )
        #expect(responder.requests == ["PIRI", "PIRI", "PIRI"])
    }

    @Test("a partial reply is reported with the bytes that arrived")
    func partialReply() async throws {
        let responder = try Responder(framing: .stream) { _, _ in .reply(Array("^D025149616".utf8)) }
        defer { responder.stop() }
        let timing = PI18Client.Timing(attemptTimeout: .milliseconds(300), attempts: 1)
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: timing)

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .timeout)
        #expect(error?.detail == "no complete reply within 300 ms (got 11 bytes: ^D025149616)")
    }

    @Test("a port that does not exist fails at once, without retries")
    func missingPort() async throws {
        let client = PI18Client(address: .hidraw(path: "/dev/lvx-no-such-node"), timing: fastTiming)
        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        #expect(error?.kind == .open)
        #expect(error?.attempts == 1)
        #expect(
            error?.description
                == "hidraw:/dev/lvx-no-such-node: ID: cannot open the port: open: no such file or directory (errno 2)"
        )
    }

    @Test("setters: ^1 is true, ^0 is false, each sent exactly once")
    func setterAnswers() async throws {
        let responder = try Responder(framing: .hidraw) { request, _ in
            .reply(request.payload == "POP1" ? PI18Reply.refusedFrame : PI18Reply.acceptedFrame)
        }
        defer { responder.stop() }
        let client = PI18Client(address: .hidraw(path: responder.path), timing: patientTiming)

        #expect(try await client.write(.outputSourcePriority(SettingValue(raw: 1))) == false)
        #expect(try await client.write(.chargeVoltages(bulk: SettingValue(raw: 564), float: SettingValue(raw: 540))))
        #expect(responder.requests == ["POP1", "MCHGV564,540"])
        // POP1's CRC needs the 0x0D -> 0x0E fix-up: the frame on the wire is exactly the PDF's.
        #expect(
            Array(responder.received.prefix(16)) == [
                0x5E, 0x53, 0x30, 0x30, 0x37, 0x50, 0x4F, 0x50,
                0x31, 0x0E, 0x10, 0x0D, 0x00, 0x00, 0x00, 0x00,
            ]
        )
    }

    @Test("a setter that times out is never retried and its effect is reported unknown")
    func setterNotRetried() async throws {
        let responder = try Responder(framing: .stream) { _, _ in .silent }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: fastTiming)

        let error = await #expect(throws: DeviceError.self) {
            try await client.write(.batteryType(SettingValue(raw: 2)))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(error?.kind == .timeout)
        #expect(error?.command == "PBT2")
        #expect(error?.attempts == 1)
        #expect(error?.detail == "no complete reply within 500 ms; the write's effect is unknown")
        #expect(responder.requests == ["PBT2"])
    }

    @Test("a setter answered with garbage is a bad reply, not retried")
    func setterGarbled() async throws {
        let responder = try Responder(framing: .stream) { _, _ in
            .reply(Inverter.corruptingCRC(PI18Reply.acceptedFrame))
        }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        let error = await #expect(throws: DeviceError.self) { try await client.write(.gridTie(SettingValue(raw: 1))) }
        #expect(error?.kind == .badReply)
        #expect(error?.detail.hasSuffix("; the write's effect is unknown") == true)
        #expect(responder.requests == ["PEI"])
    }

    @Test("a setter that cannot be encoded is an encoding error and sends nothing")
    func setterEncoding() async throws {
        let responder = try Responder(framing: .stream) { _, _ in .reply(PI18Reply.acceptedFrame) }
        defer { responder.stop() }
        let client = PI18Client(address: .serial(path: responder.path, baud: 2400), timing: patientTiming)

        let error = await #expect(throws: DeviceError.self) {
            try await client.write(.maxChargingCurrent(SettingValue(raw: 60), parallelIndex: 12))
        }
        #expect(error?.kind == .encoding)
        #expect(error?.detail == "parallel index 12 is not a single digit")
        try await Task.sleep(for: .milliseconds(50))
        #expect(responder.received.isEmpty)
    }

    // A pty that went away cannot be tested safely while tests run in parallel: its /dev/pts
    // number is reused at once by another test's responder. A TCP bridge shows the same path.
    @Test("after the bridge goes away the client reports an error at once instead of hanging")
    func deviceGone() async throws {
        let responder = try Responder(tcpFraming: .stream, script: Inverter.healthy(serial: serialA))
        let client = PI18Client(address: .tcp(host: "127.0.0.1", port: responder.tcpPort), timing: patientTiming)
        #expect(try await client.serialNumber() == SerialNumber(serialA))
        responder.stop()

        let error = await #expect(throws: DeviceError.self) { try await client.serialNumber() }
        // The first attempt sees the closed connection; reconnecting is then refused.
        #expect(error?.kind == .open)
        #expect(error?.attempts == 2)
        #expect(error?.detail.contains("connect: connection refused") == true)
    }

    @Test("a TCP bridge that drops the connection is reconnected on the next attempt")
    func tcpReconnect() async throws {
        let responder = try Responder(tcpFraming: .stream, script: Inverter.healthy(serial: serialA))
        defer { responder.stop() }
        let client = PI18Client(address: .tcp(host: "127.0.0.1", port: responder.tcpPort), timing: patientTiming)
        #expect(try await client.serialNumber() == SerialNumber(serialA))

        responder.dropConnection()
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await client.workingMode().code == "05")
        #expect(responder.requests == ["ID", "MOD"])
    }

    @Test("finding the frame in a line: noise is skipped, a '^' in noise does not hide the frame")
    func findReply() {
        let frame = PI18Reply.encodeData("05")
        #expect(PI18Client.findReply(in: [0x00, 0x00, 0x0D]) == .noise)
        #expect(PI18Client.findReply(in: [0x5E, 0x21] + frame) == .reply(.data(fields: ["05"])))
        #expect(PI18Client.findReply(in: PI18Reply.refusedFrame) == .reply(.refused))
        #expect(PI18Client.findReply(in: Array("^Dxxxxxx\r".utf8)) == .invalid(.badStart("^Dxxx")))
    }

    @Test("sixteen silent units are read at once: every first request comes before any retry")
    func concurrentClientsHaveTheirOwnThreads() async throws {
        let responders = try (0..<16).map { _ in try Responder(framing: .hidraw) { _, _ in .silent } }
        defer { responders.forEach { $0.stop() } }
        let timing = PI18Client.Timing(attemptTimeout: .seconds(8), attempts: 2, pause: .milliseconds(10))
        let clients = responders.map { PI18Client(address: .hidraw(path: $0.path), timing: timing) }

        let failures = await withTaskGroup(of: Bool.self) { group in
            for client in clients {
                group.addTask {
                    do throws(DeviceError) {
                        _ = try await client.serialNumber()
                        return false
                    } catch {
                        return error.kind == .timeout
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 16)
        // Clients served one after another (as on the two-thread cooperative pool) would send a
        // unit's retry before the next unit's first request. Concurrent clients send all sixteen
        // first requests before any 8 s attempt times out. This checks order, not speed.
        let firsts = responders.compactMap { $0.requestTimes.first }
        let retries = responders.compactMap { $0.requestTimes.dropFirst().first }
        #expect(firsts.count == 16 && retries.count == 16)
        if let lastFirst = firsts.max(), let firstRetry = retries.min() {
            #expect(lastFirst < firstRetry)
        }
    }

    private func address(_ framing: Responder.Framing, _ path: String) -> PortAddress {
        framing == .hidraw ? .hidraw(path: path) : .serial(path: path, baud: 2400)
    }
}

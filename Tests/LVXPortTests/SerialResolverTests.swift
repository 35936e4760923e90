import LVXCore
import Testing

@testable import LVXPort

/// Candidates injected in place of sd-device discovery.
private struct FixedEnumerator: PortEnumerator {
    var ports: [String]
    func candidatePorts() throws -> [String] { ports }
}

/// An enumerator whose system call fails.
private struct FailingEnumerator: PortEnumerator {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "sd_device_enumerator_new: permission denied" }
    }
    func candidatePorts() throws -> [String] { throw Failure() }
}

/// Probe timing for tests: 3 s per attempt (an answering unit is never that late), 2 attempts.
private let probeTiming = PI18Client.Timing(attemptTimeout: .seconds(3), attempts: 2, pause: .milliseconds(20))

@Suite struct SerialResolverTests {
    @Test("finds the right port among several, skipping silent and missing ones with notes")
    func findsThePort() async throws {
        let unitA = try Responder(framing: .hidraw, script: Inverter.healthy(serial: serialA))
        let unitB = try Responder(framing: .stream, script: Inverter.healthy(serial: serialB))
        let silent = try Responder(framing: .hidraw) { _, _ in .silent }
        defer { [unitA, unitB, silent].forEach { $0.stop() } }

        let resolver = SerialResolver(
            enumerator: FixedEnumerator(ports: ["hidraw:\(unitA.path)", "hidraw:\(silent.path)", "/dev/lvx-missing"]),
            listed: [.serial(path: unitB.path, baud: 2400), .hidraw(path: unitA.path)],
            timing: probeTiming
        )
        let discovery = await resolver.probe()

        #expect(try discovery.port(for: #require(SerialNumber(serialB))) == .serial(path: unitB.path, baud: 2400))
        #expect(try discovery.port(for: #require(SerialNumber(serialA))) == .hidraw(path: unitA.path))
        // Listed ports first, the duplicate from discovery dropped.
        #expect(
            discovery.probes.map(\.port) == [
                .serial(path: unitB.path, baud: 2400), .hidraw(path: unitA.path), .hidraw(path: silent.path),
                .serial(path: "/dev/lvx-missing", baud: 2400),
            ]
        )
        #expect(
            discovery.notes == [
                "skipped hidraw:\(silent.path): ID: no complete reply within 3 s after 2 attempts",
                "skipped serial:/dev/lvx-missing: ID: cannot open the port: open: no such file or directory (errno 2)",
            ]
        )
        #expect(unitA.requests == ["ID"])
        #expect(unitB.requests == ["ID"])

        let resolved = try await resolver.resolve(#require(SerialNumber(serialB)))
        #expect(resolved == .serial(path: unitB.path, baud: 2400))
    }

    @Test("a serial nobody answered is an error listing every probe and what to do")
    func missingSerial() async throws {
        let unitA = try Responder(framing: .stream, script: Inverter.healthy(serial: serialA))
        let silent = try Responder(framing: .stream) { _, _ in .silent }
        defer { [unitA, silent].forEach { $0.stop() } }
        let resolver = SerialResolver(
            enumerator: FixedEnumerator(ports: ["hidraw:/dev/lvx-missing"]),
            listed: [.serial(path: unitA.path, baud: 2400), .serial(path: silent.path, baud: 2400)],
            timing: probeTiming
        )

        let wanted = try #require(SerialNumber("12345678901234"))
        let error = await #expect(throws: DiscoveryError.self) { try await resolver.resolve(wanted) }
        #expect(
            error?.description == """
                no inverter with serial 12345678901234 found; probed 3 ports:
                  serial:\(unitA.path): answered serial \(serialA)
                  serial:\(silent.path): ID: no complete reply within 3 s after 2 attempts
                  hidraw:/dev/lvx-missing: ID: cannot open the port: open: no such file or directory (errno 2)
                check the cable, or set LVX_PORTS (or --port) to the inverter's port
                """
        )
    }

    @Test("with no candidates at all the error says so")
    func noCandidates() async throws {
        let resolver = SerialResolver(enumerator: FixedEnumerator(ports: []), listed: [], timing: probeTiming)
        let wanted = try #require(SerialNumber(serialA))
        let error = await #expect(throws: DiscoveryError.self) { try await resolver.resolve(wanted) }
        #expect(error?.probes.isEmpty == true)
        #expect(error?.description.contains("there were no ports to probe") == true)
        #expect(error?.description.contains("set LVX_PORTS") == true)
    }

    @Test("a failing enumerator or a bad discovered string is a note, the listed ports still count")
    func discoveryProblemsAreNotes() async throws {
        let unitA = try Responder(framing: .stream, script: Inverter.healthy(serial: serialA))
        defer { unitA.stop() }
        let listed = [PortAddress.serial(path: unitA.path, baud: 2400)]

        let failing = await SerialResolver(enumerator: FailingEnumerator(), listed: listed, timing: probeTiming).probe()
        #expect(failing.ports == [try #require(SerialNumber(serialA)): listed[0]])
        #expect(
            failing.notes == [
                "port discovery failed (sd_device_enumerator_new: permission denied); probing only the listed ports"
            ]
        )

        let bad = await SerialResolver(
            enumerator: FixedEnumerator(ports: ["COM3"]),
            listed: listed,
            timing: probeTiming
        )
        .probe()
        #expect(bad.probes.count == 1)
        #expect(bad.notes.count == 1)
        #expect(
            bad.notes.first?.hasPrefix("port discovery returned an unusable port: port 'COM3' is not valid") == true
        )
    }

    @Test("the same serial on two ports: the first wins and a note says so")
    func duplicateSerial() async throws {
        let first = try Responder(framing: .stream, script: Inverter.healthy(serial: serialA))
        let second = try Responder(framing: .hidraw, script: Inverter.healthy(serial: serialA))
        defer { [first, second].forEach { $0.stop() } }
        let resolver = SerialResolver(
            listed: [.serial(path: first.path, baud: 2400), .hidraw(path: second.path)],
            timing: probeTiming
        )

        let discovery = await resolver.probe()
        #expect(try discovery.port(for: #require(SerialNumber(serialA))) == .serial(path: first.path, baud: 2400))
        #expect(
            discovery.notes == [
                "serial \(serialA) answered on both serial:\(first.path) and hidraw:\(second.path); "
                    + "using serial:\(first.path)"
            ]
        )
    }
}

import Foundation
import LVXCore
import LVXWire

/// An inverter spoken to in PI18 over a ``ByteTransport``: the real ``InverterDevice``.
///
/// Each exchange drains stale input, writes the request frame, reads up to the first CR before a
/// deadline, parses the reply (framing, length, CRC) and decodes it. A reply becomes a value only
/// when it parsed and decoded; bytes before the frame's `^` (line noise) are skipped.
///
/// Queries that time out or get a garbled, CRC-bad, refused or wrong-kind reply are retried
/// (``Timing/attempts`` in all, with ``Timing/pause`` and a drain between); then a
/// ``DeviceError`` names the port, the command and what went wrong. A port that cannot be opened
/// fails at once. Setters are sent once and never retried.
///
/// The transport is opened on first use and stays open until ``close()`` or an I/O error.
///
/// - Important: The client is an actor whose executor is a dedicated thread (``PortThread``), so
///   its blocking `poll()`/`read()` calls never run on Swift's cooperative pool; many clients can
///   be read concurrently without starving other tasks.
public actor PI18Client: InverterDevice {
    /// How long each exchange may take and how often a query is tried.
    ///
    /// With the defaults (2 s per attempt, 3 attempts, 0.25 s pause) a query that never gets a
    /// valid reply fails after at most 3 x 2 s + 2 x 0.25 s = 6.5 s (``queryBound``); a setter
    /// after at most 3 s. 2 s covers the longest reply (PGS, 118 bytes, about 0.5 s at 2400 baud)
    /// plus the inverter's think time with a wide margin.
    public struct Timing: Sendable, Equatable {
        /// The deadline for one exchange: open (or connect), drain, write and read.
        public var attemptTimeout: Duration
        /// How many times a query is tried; values below 1 count as 1.
        public var attempts: Int
        /// The wait between two attempts of a query.
        public var pause: Duration
        /// The deadline for a setter's single exchange.
        public var setterTimeout: Duration

        public init(
            attemptTimeout: Duration = .seconds(2),
            attempts: Int = 3,
            pause: Duration = .milliseconds(250),
            setterTimeout: Duration = .seconds(3)
        ) {
            self.attemptTimeout = attemptTimeout
            self.attempts = max(1, attempts)
            self.pause = pause
            self.setterTimeout = setterTimeout
        }

        /// The defaults: 2 s per attempt, 3 attempts, 0.25 s pause, 3 s for a setter.
        public static let standard = Timing()

        /// Short timing for probing candidate ports: 1 s per attempt, 2 attempts, 0.1 s pause.
        public static let probe = Timing(attemptTimeout: .seconds(1), attempts: 2, pause: .milliseconds(100))

        /// The longest a query can take before it throws: attempts x timeout + (attempts - 1) x pause.
        public var queryBound: Duration {
            let tries = max(1, attempts)
            return attemptTimeout * tries + pause * (tries - 1)
        }
    }

    /// The canonical port string, such as `hidraw:/dev/hidraw0`; errors name it.
    public nonisolated let port: String
    /// The address the transport talks to.
    public nonisolated let address: PortAddress
    /// The timing in force.
    public nonisolated let timing: Timing

    private let thread: PortThread
    private let transport: any ByteTransport

    /// Runs every method of this actor on the client's own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        thread.asUnownedSerialExecutor()
    }

    /// A client for `address`; nothing is opened until the first exchange.
    public init(address: PortAddress, timing: Timing = .standard) {
        self.init(transport: address.makeTransport(), timing: timing)
    }

    /// A client that uses `transport`, which it then owns.
    public init(transport: sending any ByteTransport, timing: Timing = .standard) {
        self.address = transport.address
        self.port = transport.address.description
        self.timing = timing
        self.transport = transport
        self.thread = PortThread(name: "lvx " + transport.address.description)
    }

    deinit {
        thread.stop()
    }

    /// Closes the port; the next exchange opens it again.
    public func close() {
        transport.close()
    }

    /// `PI`: the protocol id, `18` for a PI18 inverter.
    public func protocolID() async throws(DeviceError) -> String {
        try query(.protocolID, PI18Decode.protocolID)
    }

    public func serialNumber() async throws(DeviceError) -> SerialNumber {
        try query(.serialNumber, PI18Decode.serialNumber)
    }

    public func firmwareVersions() async throws(DeviceError) -> FirmwareVersions {
        try query(.firmwareVersions, PI18Decode.firmwareVersions)
    }

    public func ratedInformation() async throws(DeviceError) -> RatedInformation {
        try query(.ratedInformation, PI18Decode.ratedInformation)
    }

    public func generalStatus() async throws(DeviceError) -> GeneralStatus {
        try query(.generalStatus, PI18Decode.generalStatus)
    }

    public func workingMode() async throws(DeviceError) -> InverterMode {
        try query(.workingMode, PI18Decode.workingMode)
    }

    public func faultStatus() async throws(DeviceError) -> FaultStatus {
        try query(.faultStatus, PI18Decode.faultStatus)
    }

    public func chargingCurrentOptions() async throws(DeviceError) -> [Int] {
        try query(.chargingCurrentOptions) { (fields) throws(PI18WireError) in
            try PI18Decode.currentOptions(fields, command: "MCHGCR")
        }
    }

    public func utilityChargingCurrentOptions() async throws(DeviceError) -> [Int] {
        try query(.utilityChargingCurrentOptions) { (fields) throws(PI18WireError) in
            try PI18Decode.currentOptions(fields, command: "MUCHGCR")
        }
    }

    /// Sends the setter for `write` once; never retried, whatever happens.
    ///
    /// - Returns: `true` for `^1`, `false` for `^0`.
    /// - Throws: ``DeviceError`` when no valid acknowledgement arrived in ``Timing/setterTimeout``;
    ///   the detail says whether the request may have reached the inverter (effect unknown).
    public func write(_ write: SettingWrite) async throws(DeviceError) -> Bool {
        let setter: PI18Setter
        do throws(PI18Setter.EncodingError) {
            setter = try PI18Setter(write)
        } catch {
            throw DeviceError(kind: .encoding, port: port, command: String(describing: write), detail: error.message)
        }
        switch exchange(setter.frame.bytes, timeout: timing.setterTimeout) {
        case .success(.accepted):
            return true
        case .success(.refused):
            return false
        case .success(.data):
            throw DeviceError(
                kind: .badReply,
                port: port,
                command: setter.payload,
                detail: "expected ^1 or ^0, got a data reply; the write's effect is unknown"
            )
        case .failure(let problem):
            let effect = problem.requestSent ? "the write's effect is unknown" : "nothing was sent"
            throw DeviceError(
                kind: problem.kind,
                port: port,
                command: setter.payload,
                detail: problem.text + "; " + effect,
                openFailure: problem.openFailure
            )
        }
    }

    // MARK: - Exchanges

    /// What went wrong in one attempt.
    private struct Problem: Error {
        var kind: DeviceError.Kind
        var text: String
        /// Whether the request may have reached the device.
        var requestSent: Bool
        /// For kind `open`: why the port could not be opened.
        var openFailure: DeviceError.OpenFailure? = nil
    }

    /// Runs `query` with retries and decodes the reply with `decode`.
    private func query<Value>(
        _ query: PI18Query,
        _ decode: ([String]) throws(PI18WireError) -> Value
    ) throws(DeviceError) -> Value {
        let frame = query.frame.bytes
        var problems: [Problem] = []
        for attempt in 1...max(1, timing.attempts) {
            if attempt > 1 { Thread.sleep(forTimeInterval: Double(timing.pause.milliseconds) / 1000) }
            let problem: Problem
            switch exchange(frame, timeout: timing.attemptTimeout) {
            case .success(.data(let fields)):
                do throws(PI18WireError) {
                    return try decode(fields)
                } catch {
                    problem = Problem(kind: .badReply, text: error.description, requestSent: true)
                }
            case .success(.refused):
                problem = Problem(kind: .refused, text: "the inverter answered ^0 (refused)", requestSent: true)
            case .success(.accepted):
                problem = Problem(kind: .badReply, text: "expected a data reply, got ^1", requestSent: true)
            case .failure(let failure):
                if failure.kind == .open {
                    throw DeviceError(
                        kind: .open,
                        port: port,
                        command: query.mnemonic,
                        detail: failure.text,
                        attempts: attempt,
                        openFailure: failure.openFailure
                    )
                }
                problem = failure
            }
            problems.append(problem)
        }
        var texts: [String] = []
        for problem in problems where !texts.contains(problem.text) { texts.append(problem.text) }
        throw DeviceError(
            kind: problems.last?.kind ?? .timeout,
            port: port,
            command: query.mnemonic,
            detail: texts.joined(separator: "; "),
            attempts: problems.count
        )
    }

    /// One exchange: open if needed, drain, write `request`, read until a frame parses or the deadline.
    private func exchange(_ request: [UInt8], timeout: Duration) -> Result<PI18Reply, Problem> {
        let deadline = Deadline.now + timeout
        var sent = false
        do throws(TransportError) {
            try transport.open(deadline: deadline)
            try transport.drain()
            sent = true
            try transport.write(request, deadline: deadline)
            while true {
                let line = try transport.readReply(deadline: deadline)
                switch Self.findReply(in: line) {
                case .reply(let reply): return .success(reply)
                case .noise: continue
                case .invalid(let error):
                    let kind: DeviceError.Kind = error == .refused ? .refused : .badReply
                    return .failure(Problem(kind: kind, text: error.description, requestSent: true))
                }
            }
        } catch {
            switch error.kind {
            case .open:
                transport.close()
                return .failure(
                    Problem(
                        kind: .open,
                        text: "cannot open the port: " + error.message,
                        requestSent: false,
                        openFailure: error.openFailure ?? .other
                    )
                )
            case .timeout:
                var text = "\(error.detail) within \(timeout.shortText)"
                if !error.received.isEmpty {
                    text += " (got \(error.received.count) bytes: \(PolledDescriptor.preview(error.received)))"
                }
                return .failure(Problem(kind: .timeout, text: text, requestSent: sent))
            case .io, .closed:
                transport.close()
                return .failure(Problem(kind: .io, text: error.message, requestSent: sent))
            }
        }
    }

    /// What one CR-terminated line held.
    enum LineContent: Equatable {
        /// A frame that parsed.
        case reply(PI18Reply)
        /// No `^` at all: noise (or padding) to skip.
        case noise
        /// A `^` was there but no frame starting at any `^` parsed; the error is the first one's.
        case invalid(PI18WireError)
    }

    /// Finds the reply frame in `line`, skipping any bytes before its `^`.
    ///
    /// Each `^` is tried as a frame start, first to last; the first that parses (length and CRC
    /// verified) wins. A `^` inside noise cannot produce a false frame without a matching CRC.
    static func findReply(in line: [UInt8]) -> LineContent {
        var firstError: PI18WireError?
        for start in line.indices where line[start] == 0x5E {
            do throws(PI18WireError) {
                return .reply(try PI18Reply.parse(Array(line[start...])))
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { return .invalid(firstError) }
        return .noise
    }
}

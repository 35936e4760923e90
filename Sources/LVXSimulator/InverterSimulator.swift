import Dispatch
import Foundation
import LVXCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the simulator offers a unit to clients.
public enum SimulatorTransport: String, Sendable, CaseIterable {
    /// A pseudo-terminal used like a `/dev/hidrawN`: requests arrive in 8-byte reports (the last
    /// padded with 0x00) and replies leave in 8-byte reports, the last padded with 0x00.
    case hidraw
    /// A pseudo-terminal used like a serial port: a plain byte stream both ways.
    case serial
    /// A TCP port on 127.0.0.1 carrying the raw byte stream (a serial-over-TCP bridge).
    case tcp
    /// A real `/dev/hidrawN` made through Linux's `/dev/uhid` (root): a USB HID device 0665:5161
    /// whose HID_UNIQ is the serial, 8-byte reports, no report ID; a leading 0x00 of a 9-byte write
    /// is stripped as usbhid would. Its port is `hidraw:/dev/hidrawN`.
    case uhid
}

/// One unit being served: its serial and the lvx port string that reaches it.
public struct ServedUnit: Sendable, Hashable, CustomStringConvertible {
    public var serial: SerialNumber
    /// The lvx port string: `hidraw:/dev/pts/N`, `serial:/dev/pts/N`, `tcp://127.0.0.1:PORT` or
    /// `hidraw:/dev/hidrawN` (uhid).
    public var port: String
    /// The pty path (`/dev/pts/N`), `127.0.0.1:PORT` or the hidraw node (`/dev/hidrawN`).
    public var path: String

    /// `SERIAL PORT`, the line `lvx-sim` prints and writes to its ports file.
    public var description: String { "\(serial.digits) \(port)" }
}

/// Serves simulated inverters, each on its own pty or TCP port and thread, and keeps their files.
///
/// Each unit gets a dedicated thread that polls its descriptors, so units answer concurrently and
/// no blocking I/O runs on Swift's cooperative pool. Requests are framed by CR, handled by
/// ``SimulatedSite`` under one lock, logged to `SERIAL.log` and followed by an atomic rewrite of
/// `SERIAL.json` in the state directory (when one is given). Replies are paced like a UART at the
/// configured baud rate.
public final class InverterSimulator: Sendable {
    /// How to serve.
    public struct Options: Sendable {
        /// The transport every unit uses.
        public var transport: SimulatorTransport
        /// Simulated line speed in baud; 0 answers instantly.
        public var baud: Int
        /// Where `SERIAL.log` and `SERIAL.json` go; `nil` keeps everything in memory.
        public var stateDirectory: String?

        public init(transport: SimulatorTransport = .hidraw, baud: Int = 2400, stateDirectory: String? = nil) {
            self.transport = transport
            self.baud = baud
            self.stateDirectory = stateDirectory
        }
    }

    /// The units being served, in the order given.
    public let served: [ServedUnit]
    private let core: SimulatorCore
    private let endpoints: [UnitEndpoint]
    private let stopped = Mutex(false)

    /// Starts serving `units`.
    ///
    /// - Throws: ``SimulatorError`` when the units are inconsistent (duplicate serials or stack
    ///   indexes), the state directory cannot be written, or a pty/socket cannot be opened.
    public init(units: [SimulatedInverter], options: Options = Options()) throws(SimulatorError) {
        let site = try SimulatedSite(units: units)
        guard options.baud >= 0 else { throw SimulatorError("baud \(options.baud) is negative; use 0 for instant") }
        let core = try SimulatorCore(site: site, options: options)
        var endpoints: [UnitEndpoint] = []
        for unit in units {
            endpoints.append(try UnitEndpoint(serial: unit.serial, transport: options.transport))
        }
        self.core = core
        self.endpoints = endpoints
        self.served = endpoints.map { ServedUnit(serial: $0.serial, port: $0.port, path: $0.path) }
        for endpoint in endpoints { endpoint.start(core: core, baud: options.baud) }
    }

    deinit { stop() }

    /// Stops every serving thread and waits for them; safe to call more than once.
    public func stop() {
        let already = stopped.withLock { value -> Bool in
            defer { value = true }
            return value
        }
        guard !already else { return }
        for endpoint in endpoints { endpoint.stop() }
    }

    /// A snapshot of every unit.
    public var site: SimulatedSite { core.state.withLock { $0.site } }

    /// A snapshot of the unit with `serial`.
    public func unit(_ serial: SerialNumber) -> SimulatedInverter? { core.state.withLock { $0.site[serial] } }

    /// Changes a unit at run time (settings, injected faults...) and rewrites its state file.
    public func update(_ serial: SerialNumber, _ body: (inout SimulatedInverter) -> Void) {
        core.state.withLock { state in
            state.site.update(serial, body)
            state.writeStates(stackOf: serial)
        }
    }

    /// The most recent request log entries of a unit (up to 10,000), oldest first.
    public func requestLog(_ serial: SerialNumber) -> [RequestLogEntry] {
        core.state.withLock { $0.recent[serial] ?? [] }
    }

    /// Re-reads every `SERIAL.json` in the state directory (what `lvx-sim` does on SIGHUP).
    ///
    /// A file that cannot be read or parsed leaves its unit unchanged; if the result would put two
    /// units of a stack at one index, nothing changes. Counters (`requests`, `wire_seconds`) never go
    /// backwards. Every state file is rewritten afterwards.
    /// - Returns: the problems found, empty when every file was applied.
    @discardableResult
    public func reloadStateFiles() -> [SimulatorError] { core.reload() }

    /// The state directory, if any.
    public var stateDirectory: String? { core.stateDirectory }
}

/// The shared state of one simulator, behind one lock.
final class SimulatorCore: Sendable {
    let state: Mutex<CoreState>
    let stateDirectory: String?

    init(site: SimulatedSite, options: InverterSimulator.Options) throws(SimulatorError) {
        var core = CoreState(site: site, directory: options.stateDirectory)
        try core.openFiles()
        state = Mutex(core)
        stateDirectory = options.stateDirectory
    }

    /// Handles one frame for `serial`: updates the site, appends the log line, rewrites state files.
    func handle(_ frame: [UInt8], serial: SerialNumber, baud: Int) -> SimulatedExchange? {
        state.withLock { state in
            guard let exchange = state.site.handle(frame: frame, at: serial, baud: baud) else { return nil }
            state.record(exchange.entry, for: serial)
            if exchange.entry.kind == .setter {
                state.writeStates(stackOf: serial)
                for other in exchange.changed where other != serial { state.writeStates(stackOf: other) }
            } else {
                state.writeState(serial)
            }
            return exchange
        }
    }

    func reload() -> [SimulatorError] {
        guard let directory = stateDirectory else { return [SimulatorError("no state directory to reload from")] }
        let current = state.withLock { $0.site }
        var units = current.units
        var problems: [SimulatorError] = []
        for i in units.indices {
            let path = directory + "/" + units[i].serial.digits + ".json"
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(SimulatorError("\(path): cannot be read; the unit keeps its state"))
                continue
            }
            var unit = units[i]
            do {
                try UnitDocument.reload(data, into: &unit, file: path)
                units[i] = unit
            } catch {
                problems.append(error)
            }
        }
        let candidate: SimulatedSite
        do {
            candidate = try SimulatedSite(units: units)
        } catch {
            return problems + [SimulatorError("state files not applied: \(error.message)")]
        }
        state.withLock { state in
            for unit in candidate.units {
                state.site.update(unit.serial) { live in
                    let requests = max(live.requestCount, unit.requestCount)
                    let wire = max(live.wireSeconds, unit.wireSeconds)
                    live = unit
                    live.requestCount = requests
                    live.wireSeconds = wire
                }
            }
            for unit in state.site.units { state.writeState(unit.serial) }
        }
        return problems
    }
}

/// The mutable part of a simulator: the site, the open log files and the recent log entries.
struct CoreState {
    var site: SimulatedSite
    let directory: String?
    var logs: [SerialNumber: Descriptor] = [:]
    var recent: [SerialNumber: [RequestLogEntry]] = [:]

    init(site: SimulatedSite, directory: String?) {
        self.site = site
        self.directory = directory
    }

    /// Creates the state directory, opens each log for appending (continuing its sequence numbers)
    /// and writes each state file.
    mutating func openFiles() throws(SimulatorError) {
        guard let directory else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SimulatorError("cannot create state directory \(directory): \(error.localizedDescription)")
        }
        for unit in site.units {
            let path = directory + "/" + unit.serial.digits + ".log"
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let last = text.split(separator: "\n").last.flatMap({ RequestLogEntry(line: String($0)) })
            {
                site.update(unit.serial) { $0.requestCount = max($0.requestCount, last.sequence) }
            }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SimulatorError("cannot open \(path): \(errnoText())") }
            logs[unit.serial] = Descriptor(fd)
        }
        for unit in site.units { writeState(unit.serial) }
    }

    /// Appends a log line (file and memory).
    mutating func record(_ entry: RequestLogEntry, for serial: SerialNumber) {
        var list = recent[serial] ?? []
        list.append(entry)
        if list.count > 10_000 { list.removeFirst(list.count - 10_000) }
        recent[serial] = list
        logs[serial]?.writeAll(Array((entry.description + "\n").utf8), socket: false)
    }

    /// Rewrites the state files of every unit in the stack of `serial` (their reported fault may change).
    func writeStates(stackOf serial: SerialNumber) {
        guard let unit = site[serial] else { return }
        for member in site.members(of: unit.stack) { writeState(member.serial) }
    }

    /// Rewrites `SERIAL.json` atomically: a temporary file, then `rename`.
    func writeState(_ serial: SerialNumber) {
        guard let directory, let unit = site[serial] else { return }
        let text = UnitDocument.stateJSON(unit, reportedFault: site.reportedFault(of: unit))
        let path = directory + "/" + serial.digits + ".json"
        let temporary = directory + "/." + serial.digits + ".json.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let file = Descriptor(fd)
        guard file.writeAll(Array(text.utf8), socket: false) else { return }
        rename(temporary, path)
    }
}

/// One unit's pty or TCP listener and the thread that serves it.
final class UnitEndpoint: Sendable {
    let serial: SerialNumber
    let transport: SimulatorTransport
    let port: String
    let path: String
    private let terminal: PseudoTerminal?
    private let listener: TCPListener?
    private let uhid: UHIDDevice?
    private let wakePipe: WakePipe
    private let finished = DispatchSemaphore(value: 0)

    init(serial: SerialNumber, transport: SimulatorTransport) throws(SimulatorError) {
        self.serial = serial
        self.transport = transport
        wakePipe = try WakePipe()
        switch transport {
        case .hidraw, .serial:
            let terminal = try PseudoTerminal()
            self.terminal = terminal
            listener = nil
            uhid = nil
            path = terminal.path
            port = "\(transport.rawValue):\(terminal.path)"
        case .tcp:
            let listener = try TCPListener(port: 0)
            self.listener = listener
            terminal = nil
            uhid = nil
            path = "127.0.0.1:\(listener.port)"
            port = "tcp://127.0.0.1:\(listener.port)"
        case .uhid:
            let device = try UHIDDevice(serial: serial)
            uhid = device
            terminal = nil
            listener = nil
            path = device.node
            port = "hidraw:\(device.node)"
        }
    }

    func start(core: SimulatorCore, baud: Int) {
        let thread = Thread { [self] in
            self.serve(core: core, baud: baud)
            self.finished.signal()
        }
        thread.name = "lvx-sim \(serial)"
        thread.start()
    }

    func stop() {
        wakePipe.wake()
        finished.wait()
    }

    /// A connected client: its descriptor and its partial frame.
    private final class Connection {
        let descriptor: Descriptor
        var frames = FrameBuffer()
        let isSocket: Bool
        /// A pty's peer side, whose unread input can be discarded when the queue is full.
        let peer: Descriptor?
        /// The uhid device when the descriptor is `/dev/uhid`: bytes travel in events, not raw.
        let uhid: UHIDDevice?
        init(_ descriptor: Descriptor, isSocket: Bool, peer: Descriptor? = nil, uhid: UHIDDevice? = nil) {
            self.descriptor = descriptor
            self.isSocket = isSocket
            self.peer = peer
            self.uhid = uhid
        }

        /// The bytes a client sent: empty when none, `nil` when the descriptor is closed or failed.
        ///
        /// For uhid: the payload of every output report; ioctl requests are answered on the way.
        func receive() -> [UInt8]? {
            guard let uhid else { return descriptor.readAvailable() }
            guard let events = uhid.readEvents() else { return nil }
            var bytes: [UInt8] = []
            for event in events {
                if case .output(let data) = event { bytes += data } else { uhid.answer(event) }
            }
            return bytes
        }

        /// Sends bytes; when a pty's queue is full because nobody reads it, drops the stale unread
        /// bytes (as a hidraw ring nobody reads loses reports) instead of stalling the unit.
        func send(_ bytes: [UInt8]) {
            if let uhid { return uhid.send(bytes) }
            if descriptor.writeAll(bytes, socket: isSocket, patience: peer == nil ? 100 : 5) { return }
            guard let peer else { return }
            tcflush(peer.fd, TCIFLUSH)
            descriptor.writeAll(bytes, socket: false, patience: 5)
        }
    }

    private func serve(core: SimulatorCore, baud: Int) {
        var connections: [Connection] = []
        if let terminal { connections.append(Connection(terminal.controller, isSocket: false, peer: terminal.peer)) }
        if let uhid { connections.append(Connection(uhid.descriptor, isSocket: false, uhid: uhid)) }
        while true {
            var fds = [pollfd(fd: wakePipe.readEnd.fd, events: Int16(POLLIN), revents: 0)]
            if let listener { fds.append(pollfd(fd: listener.socket.fd, events: Int16(POLLIN), revents: 0)) }
            let first = fds.count
            for c in connections { fds.append(pollfd(fd: c.descriptor.fd, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 { return }
            var closed: [Int] = []
            for (i, c) in connections.enumerated() {
                let revents = fds[first + i].revents
                guard revents != 0 else { continue }
                guard let bytes = c.receive() else {
                    if c.isSocket {
                        closed.append(i)
                    } else {
                        usleep(10_000)  // pty without a reader, failed uhid: avoid spinning
                    }
                    continue
                }
                if bytes.isEmpty && revents & Int16(POLLIN) == 0 { usleep(10_000) }
                for frame in c.frames.append(bytes) {
                    guard let exchange = core.handle(frame, serial: serial, baud: baud) else { continue }
                    if exchange.unplugs { return unplug(connections) }
                    transmit(exchange.output, requestBytes: frame.count, to: c, baud: baud)
                }
            }
            for i in closed.reversed() { connections.remove(at: i) }
            if let listener, fds[1].revents & Int16(POLLIN) != 0, let client = listener.accept() {
                connections.append(Connection(client, isSocket: true))
            }
        }
    }

    /// Takes the unit off the bus for good (`unplug-after`); the serving thread then ends.
    ///
    /// A uhid device is destroyed, so the kernel removes its hidraw node; a pty's controller and TCP
    /// sockets are closed, so clients see a hang-up.
    private func unplug(_ connections: [Connection]) {
        if let uhid { return uhid.destroy() }
        terminal?.controller.hangUp()
        listener?.socket.hangUp()
        for c in connections where c.isSocket { c.descriptor.hangUp() }
    }

    /// Sends the output like a UART at `baud`: the request's own bytes take their time first, then
    /// each chunk leaves when its last byte would have; hidraw style sends 8-byte reports, the last
    /// padded with 0x00.
    private func transmit(_ output: [[UInt8]], requestBytes: Int, to connection: Connection, baud: Int) {
        let start = ContinuousClock.now
        let perByte: Duration = baud > 0 ? .nanoseconds(Int64(10_000_000_000 / baud)) : .zero
        var onWire = requestBytes
        func pace() {
            guard baud > 0 else { return }
            let due = start + perByte * onWire
            let now = ContinuousClock.now
            if due > now {
                let wait = due - now
                let (seconds, attoseconds) = wait.components
                var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            }
        }
        if output.isEmpty { pace() }
        for chunk in output {
            var offset = 0
            while offset < chunk.count {
                let end = min(offset + 8, chunk.count)
                var piece = Array(chunk[offset..<end])
                onWire += piece.count
                if transport != .serial && transport != .tcp && piece.count < 8 {
                    piece += Array(repeating: 0, count: 8 - piece.count)
                }
                pace()
                connection.send(piece)
                offset = end
            }
        }
    }
}

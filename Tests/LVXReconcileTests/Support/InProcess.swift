import Foundation
import LVXCore
import LVXPort
import LVXSimulator
import LVXWire
import Synchronization

/// Simulated LVX6048 units answering real PI18 frames in this process: the simulator's own request
/// handling behind a transport, with no pty and no thread in between.
final class InProcessSite: Sendable {
    private let site: Mutex<SimulatedSite>
    /// Called before each request is handled, with its payload (`MCHGV564,540`): a test injects a
    /// fault at exactly the exchange it wants.
    private let hooks = Mutex<[(String, @Sendable (inout SimulatedSite) -> Void)]>([])

    init(_ units: [SimulatedInverter] = SimulatorSites.seeds()) throws {
        site = Mutex(try SimulatedSite(units: units))
    }

    /// Runs `change` on the site just before the first request whose payload starts with `prefix`.
    func before(_ prefix: String, _ change: @escaping @Sendable (inout SimulatedSite) -> Void) {
        hooks.withLock { $0.append((prefix, change)) }
    }

    func update(_ serial: String, _ body: (inout SimulatedInverter) -> Void) {
        guard let serial = SerialNumber(serial) else { return }
        site.withLock { $0.update(serial, body) }
    }

    func unit(_ serial: String) -> SimulatedInverter? {
        guard let serial = SerialNumber(serial) else { return nil }
        return site.withLock { $0[serial] }
    }

    /// The payloads the unit received, as `S MCHGV564,540` (setter) or `P PIRI` (query).
    func log(_ serial: String) -> [String] { requests.withLock { $0[serial] ?? [] } }

    /// The setters every unit received.
    var setters: [String] { requests.withLock { $0.values.flatMap { $0.filter { $0.hasPrefix("S ") } } } }

    /// Every setter as `SERIAL PAYLOAD`, in the order the units received them.
    var setterOrder: [String] { order.withLock { $0 } }
    private let order = Mutex<[String]>([])

    /// Whether a request `SERIAL PAYLOAD` has arrived (held or not).
    func arrived(_ request: String) -> Bool { arrivals.withLock { $0.contains(request) } }
    private let arrivals = Mutex<[String]>([])

    /// Holds the request whose payload starts with `prefix`, outside the site's lock, until
    /// `condition` holds or `limit` passes; says whether it held.
    ///
    /// With `serial`, only that unit's requests match; with `afterSetter`, only once it received one.
    func hold(
        _ prefix: String,
        serial: String? = nil,
        afterSetter: Bool = false,
        until condition: @escaping @Sendable () -> Bool,
        limit: Duration = .seconds(300)
    ) {
        holds.withLock {
            $0.append(
                Hold(prefix: prefix, serial: serial, afterSetter: afterSetter, condition: condition, limit: limit)
            )
        }
    }

    private struct Hold: Sendable {
        var prefix: String
        var serial: String?
        var afterSetter: Bool
        var condition: @Sendable () -> Bool
        var limit: Duration
    }
    private let holds = Mutex<[Hold]>([])
    let heldInTime = Mutex<[Bool]>([])

    private let requests = Mutex<[String: [String]]>([:])

    /// Handles one request frame for `serial`; returns the bytes to send back.
    func handle(_ frame: [UInt8], serial: SerialNumber) -> [UInt8] {
        let payload = PI18IncomingRequest.parse(frame).map(\.payload)
        if case .success(let text) = payload {
            arrivals.withLock { $0.append("\(serial.digits) \(text)") }
            let wroteBefore = log(serial.digits).contains { $0.hasPrefix("S ") }
            let waits = holds.withLock { holds -> [Hold] in
                guard
                    let i = holds.firstIndex(where: { hold in
                        text.hasPrefix(hold.prefix) && (hold.serial ?? serial.digits) == serial.digits
                            && (!hold.afterSetter || wroteBefore)
                    })
                else { return [] }
                return [holds.remove(at: i)]
            }
            for hold in waits {
                let deadline = ContinuousClock.now + hold.limit
                while !hold.condition() && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.001) }
                heldInTime.withLock { $0.append(hold.condition()) }
            }
            let due = hooks.withLock { hooks -> [@Sendable (inout SimulatedSite) -> Void] in
                let matching = hooks.filter { text.hasPrefix($0.0) }.map(\.1)
                hooks.removeAll { text.hasPrefix($0.0) }
                return matching
            }
            site.withLock { site in for change in due { change(&site) } }
        }
        let exchange = site.withLock { $0.handle(frame: frame, at: serial, baud: 0) }
        if let entry = exchange?.entry {
            let kind = entry.kind == .setter ? "S" : "P"
            requests.withLock { $0[serial.digits, default: []].append("\(kind) \(entry.payload)") }
            if entry.kind == .setter { order.withLock { $0.append("\(serial.digits) \(entry.payload)") } }
        }
        return exchange?.output.flatMap { $0 } ?? []
    }
}

/// A transport to one unit of an ``InProcessSite``; a reply that does not come (a dropped reply, a
/// hung unit) is waited for until the deadline, as on a real port.
final class InProcessTransport: ByteTransport {
    let address: PortAddress
    private let site: InProcessSite
    private let serial: SerialNumber
    private var pending: [UInt8] = []
    private(set) var isOpen = false

    init(_ site: InProcessSite, serial: SerialNumber) {
        self.site = site
        self.serial = serial
        self.address = .hidraw(path: "/inprocess/\(serial.digits)")
    }

    func open(deadline: Deadline) throws(TransportError) { isOpen = true }
    func close() { isOpen = false }
    func drain() throws(TransportError) { pending.removeAll() }

    func write(_ frame: [UInt8], deadline: Deadline) throws(TransportError) {
        pending += site.handle(frame, serial: serial)
    }

    func readReply(deadline: Deadline) throws(TransportError) -> [UInt8] {
        if let cr = pending.firstIndex(of: 0x0D) {
            let reply = Array(pending[...cr])
            pending.removeSubrange(...cr)
            return reply
        }
        let now = ContinuousClock.now
        if deadline > now {
            Thread.sleep(
                forTimeInterval: Double((deadline - now).components.seconds) + Double(
                    (deadline - now).components.attoseconds
                ) / 1e18
            )
        }
        throw TransportError(kind: .timeout, port: address.description, detail: "no complete reply", received: pending)
    }
}

/// Opens the units of an ``InProcessSite`` by serial, and by the port string a plan recorded.
struct InProcessConnector: UnitConnector {
    let site: InProcessSite
    /// Short attempts: only silence is ever waited for.
    static let timing = PI18Client.Timing(
        attemptTimeout: .milliseconds(100),
        attempts: 2,
        pause: .milliseconds(1),
        setterTimeout: .milliseconds(100)
    )

    func connect(_ units: [DesiredUnit]) async -> [SerialNumber: Result<any InverterDevice, DeviceError>] {
        var out: [SerialNumber: Result<any InverterDevice, DeviceError>] = [:]
        for unit in units {
            out[unit.serial] =
                site.unit(unit.serial.digits) == nil
                ? .failure(DeviceError(kind: .open, port: "discovery", command: "ID", detail: "not found"))
                : .success(PI18Client(transport: InProcessTransport(site, serial: unit.serial), timing: Self.timing))
        }
        return out
    }

    func device(onPort port: String) throws(DeviceError) -> any InverterDevice {
        guard let serial = SerialNumber(String(port.split(separator: "/").last ?? "")) else {
            throw DeviceError(kind: .open, port: port, command: "ID", detail: "no such in-process unit")
        }
        return PI18Client(transport: InProcessTransport(site, serial: serial), timing: Self.timing)
    }
}

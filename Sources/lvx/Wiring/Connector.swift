import LVXCore
import LVXPort
import LVXReconcile

/// Opens the desired units for the use cases: by `port:`, else by one discovery pass probing the
/// hidraw nodes sd-device lists and the ports of `--port`/`LVX_PORTS` with `ID`.
struct PortConnector: UnitConnector {
    let timing: PI18Client.Timing
    let candidates: [String]
    let enumerator: (any PortEnumerator)?

    init(_ resolver: UnitResolver) {
        timing = resolver.timing
        candidates = resolver.device.extraCandidates
        enumerator = resolver.discoveryEnumerator()
    }

    init(timing: PI18Client.Timing, candidates: [String], enumerator: (any PortEnumerator)?) {
        self.timing = timing
        self.candidates = candidates
        self.enumerator = enumerator
    }

    /// For commands without device options: standard timing, `LVX_PORTS` and sd-device.
    static var standard: PortConnector {
        PortConnector(
            timing: .standard,
            candidates: DeviceOptions.candidates(),
            enumerator: UnitResolver.hidrawEnumerator()
        )
    }

    func connect(_ units: [DesiredUnit]) async -> [SerialNumber: Result<any InverterDevice, DeviceError>] {
        var out: [SerialNumber: Result<any InverterDevice, DeviceError>] = [:]
        var discovery: Discovery?
        if units.contains(where: { $0.port == nil }) {
            let listed = candidates.compactMap { try? PortAddress(parsing: $0) }
            discovery = await SerialResolver(enumerator: enumerator, listed: listed, timing: .probe).probe()
        }
        for unit in units {
            if let port = unit.port {
                out[unit.serial] = Result { () throws(DeviceError) in try device(onPort: port) }
            } else if let discovery {
                do {
                    out[unit.serial] = .success(
                        PI18Client(address: try discovery.port(for: unit.serial), timing: timing)
                    )
                } catch {
                    out[unit.serial] = .failure(
                        DeviceError(kind: .open, port: "discovery", command: "ID", detail: error.description)
                    )
                }
            }
        }
        return out
    }

    func device(onPort port: String) throws(DeviceError) -> any InverterDevice {
        do {
            return PI18Client(address: try PortAddress(parsing: port), timing: timing)
        } catch {
            throw DeviceError(kind: .open, port: port, command: "ID", detail: error.description)
        }
    }
}

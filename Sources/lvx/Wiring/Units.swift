import Foundation
import LVXCore
import LVXPort
import LVXSystemd

/// A unit to talk to: its device, and its name and serial when known.
struct Target: Sendable {
    var name: String?
    var serial: SerialNumber?
    var device: PI18Client

    /// How messages name the unit: its name, else its serial, else its port.
    var label: String { name ?? serial?.digits ?? device.port }
}

/// Turns unit references (port strings, serial numbers, unit names) into open devices.
struct UnitResolver {
    var device: DeviceOptions
    var repository: RepositoryOptions

    var timing: PI18Client.Timing {
        var timing = PI18Client.Timing.standard
        if let seconds = device.timeout { timing.attemptTimeout = .milliseconds(Int(seconds * 1000)) }
        return timing
    }

    /// Whether `ref` is written as a port string rather than a serial or name.
    static func isPortString(_ ref: String) -> Bool {
        ref.hasPrefix("hidraw:") || ref.hasPrefix("serial:") || ref.hasPrefix("tcp://") || ref.hasPrefix("/")
    }

    /// The names of every unit in `lvx.yaml`, for commands given no units.
    func allDesiredUnitRefs() throws -> [String] {
        let site = try Site.load(repositoryPath: repository.path, today: CivilDate(SystemClock().now()))
        return try site.requireValid().units.map(\.name)
    }

    /// Resolves every reference; serials are found by one discovery pass shared by all of them.
    func resolve(_ refs: [String]) async throws -> [Target] {
        try await resolveEach(refs).map { result in
            switch result {
            case .success(let target): target
            case .failure(let unresolved): throw unresolved.error
            }
        }
    }

    /// Resolves every reference, like ``resolve(_:)``, but a unit that discovery did not find is a
    /// failure in its own place rather than an error for all (`status` still reports the others).
    func resolveEach(_ refs: [String]) async throws -> [Result<Target, Unresolved>] {
        var desired: DesiredState?
        if refs.contains(where: { !Self.isPortString($0) && SerialNumber($0) == nil })
            || refs.contains(where: { SerialNumber($0) != nil })
        {
            desired = try? Site.load(repositoryPath: repository.path, today: CivilDate(SystemClock().now())).state
        }
        var targets: [Result<Target, Unresolved>?] = Array(repeating: nil, count: refs.count)
        var wanted: [(Int, SerialNumber, String?)] = []
        for (i, ref) in refs.enumerated() {
            if Self.isPortString(ref) {
                targets[i] = .success(Target(name: nil, serial: nil, device: try client(ref)))
            } else if let serial = SerialNumber(ref) {
                let unit = desired?.unit(serial: serial)
                if let port = unit?.port {
                    targets[i] = .success(Target(name: unit?.name, serial: serial, device: try client(port)))
                } else {
                    wanted.append((i, serial, unit?.name))
                }
            } else if let unit = desired?.unit(named: ref) {
                if let port = unit.port {
                    targets[i] = .success(Target(name: unit.name, serial: unit.serial, device: try client(port)))
                } else {
                    wanted.append((i, unit.serial, unit.name))
                }
            } else {
                throw CLIError(
                    "'\(ref)' is not a port string, a serial number, or a unit name in \(repository.path)/lvx.yaml",
                    hint: "port strings look like \(PortAddress.acceptedForms)",
                    status: .usage
                )
            }
        }
        if !wanted.isEmpty {
            let discovery = try await discover()
            for (i, serial, name) in wanted {
                do {
                    let address = try discovery.port(for: serial)
                    targets[i] = .success(
                        Target(name: name, serial: serial, device: PI18Client(address: address, timing: timing))
                    )
                } catch {
                    let cli = CLIError(
                        error.description,
                        hint: "check the cable, or list the port in --port or LVX_PORTS"
                    )
                    targets[i] = .failure(Unresolved(name: name, serial: serial, error: cli))
                }
            }
        }
        return targets.compactMap { $0 }
    }

    /// Probes every candidate port with `ID`: hidraw nodes from sd-device plus `--port`/`LVX_PORTS`.
    func discover() async throws -> Discovery {
        var listed: [PortAddress] = []
        for text in device.extraCandidates {
            do {
                listed.append(try PortAddress(parsing: text))
            } catch {
                throw CLIError(error.description, status: .usage)
            }
        }
        let resolver = SerialResolver(enumerator: discoveryEnumerator(), listed: listed, timing: .probe)
        return await resolver.probe()
    }

    /// The source of hidraw candidates: libsystemd's sd-device, unless `LVX_NO_HIDRAW_SCAN` is set
    /// (tests inject candidates through `LVX_PORTS` only).
    func discoveryEnumerator() -> (any PortEnumerator)? { Self.hidrawEnumerator() }

    /// libsystemd's sd-device, unless `LVX_NO_HIDRAW_SCAN` is set.
    static func hidrawEnumerator() -> (any PortEnumerator)? {
        ProcessInfo.processInfo.environment["LVX_NO_HIDRAW_SCAN"] == nil ? HidrawEnumerator() : nil
    }

    func client(_ text: String) throws -> PI18Client {
        do {
            return PI18Client(address: try PortAddress(parsing: text), timing: timing)
        } catch {
            throw CLIError(error.description, status: .usage)
        }
    }
}

/// A unit reference that discovery did not find: its name and serial, and the error to print.
struct Unresolved: Error {
    var name: String?
    var serial: SerialNumber
    var error: CLIError
}

/// Runs `body` for every target at once and returns the results in the targets' order.
func readConcurrently<T: Sendable>(
    _ targets: [Target],
    _ body: @escaping @Sendable (Target) async throws -> T
) async -> [Result<T, DeviceError>] {
    await concurrently(targets) { target in
        do {
            return .success(try await body(target))
        } catch let error as DeviceError {
            return .failure(error)
        } catch {
            return .failure(DeviceError(kind: .io, port: target.device.port, command: "?", detail: "\(error)"))
        }
    }
}

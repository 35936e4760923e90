import LVXCore

/// Finds which port each inverter is on by asking every candidate port for its serial (`ID`).
///
/// Candidates are the explicitly listed ports (`--port`, `LVX_PORTS`) first, then whatever the
/// ``LVXCore/PortEnumerator`` reports, without duplicates. All are probed concurrently, each on
/// its own ``PI18Client`` with short ``PI18Client/Timing/probe`` timing. A candidate that cannot
/// be opened or does not answer is skipped with a note; only a wanted serial that nobody
/// answered is an error.
public struct SerialResolver: Sendable {
    /// Where discovered candidates come from, or `nil` to probe only the listed ports.
    public var enumerator: (any PortEnumerator)?
    /// Ports named by the user; probed first.
    public var listed: [PortAddress]
    /// The timing of each probe.
    public var timing: PI18Client.Timing

    public init(
        enumerator: (any PortEnumerator)? = nil,
        listed: [PortAddress] = [],
        timing: PI18Client.Timing = .probe
    ) {
        self.enumerator = enumerator
        self.listed = listed
        self.timing = timing
    }

    /// Probes every candidate concurrently and reports who answered what.
    ///
    /// Never throws: enumeration failures and unusable candidates become ``Discovery/notes``.
    /// The worst case is one probe's ``PI18Client/Timing/queryBound`` (2.1 s with the probe timing).
    public func probe() async -> Discovery {
        var notes: [String] = []
        var candidates = listed
        if let enumerator {
            do {
                for text in try enumerator.candidatePorts() {
                    do {
                        let address = try PortAddress(parsing: text)
                        if !candidates.contains(address) { candidates.append(address) }
                    } catch {
                        notes.append("port discovery returned an unusable port: \(error)")
                    }
                }
            } catch {
                notes.append("port discovery failed (\(error)); probing only the listed ports")
            }
        }

        let timing = self.timing
        let outcomes = await withTaskGroup(of: (Int, Discovery.Outcome).self) { group in
            for (index, address) in candidates.enumerated() {
                group.addTask {
                    let client = PI18Client(address: address, timing: timing)
                    let outcome: Discovery.Outcome
                    do throws(DeviceError) {
                        outcome = .answered(try await client.serialNumber())
                    } catch {
                        outcome = .failed(Discovery.describe(error))
                    }
                    await client.close()
                    return (index, outcome)
                }
            }
            var results = [Discovery.Outcome?](repeating: nil, count: candidates.count)
            for await (index, outcome) in group { results[index] = outcome }
            return results
        }

        var probes: [Discovery.Probe] = []
        var ports: [SerialNumber: PortAddress] = [:]
        for (address, outcome) in zip(candidates, outcomes) {
            let outcome = outcome ?? .failed("not probed")
            probes.append(Discovery.Probe(port: address, outcome: outcome))
            switch outcome {
            case .answered(let serial):
                if let first = ports[serial] {
                    notes.append("serial \(serial) answered on both \(first) and \(address); using \(first)")
                } else {
                    ports[serial] = address
                }
            case .failed(let why):
                notes.append("skipped \(address): \(why)")
            }
        }
        return Discovery(probes: probes, ports: ports, notes: notes)
    }

    /// The port of the inverter with serial `wanted`.
    ///
    /// - Throws: ``DiscoveryError`` listing every probed port and its answer when none answered
    ///   with `wanted`.
    public func resolve(_ wanted: SerialNumber) async throws(DiscoveryError) -> PortAddress {
        try await probe().port(for: wanted)
    }
}

/// What probing the candidate ports found.
public struct Discovery: Sendable, Equatable {
    /// What one candidate answered.
    public enum Outcome: Sendable, Equatable {
        /// The port answered `ID` with this serial.
        case answered(SerialNumber)
        /// The port could not be opened or gave no valid answer; the text says why.
        case failed(String)
    }

    /// One probed port and its outcome.
    public struct Probe: Sendable, Equatable {
        public var port: PortAddress
        public var outcome: Outcome

        public init(port: PortAddress, outcome: Outcome) {
            self.port = port
            self.outcome = outcome
        }
    }

    /// Every candidate in probe order (listed ports first).
    public var probes: [Probe]
    /// The first port that answered each serial.
    public var ports: [SerialNumber: PortAddress]
    /// Lower-case notes for verbose output: skipped ports, duplicates, discovery failures.
    public var notes: [String]

    public init(probes: [Probe], ports: [SerialNumber: PortAddress], notes: [String]) {
        self.probes = probes
        self.ports = ports
        self.notes = notes
    }

    /// The port `serial` answered on.
    ///
    /// - Throws: ``DiscoveryError`` listing what was probed when no port answered with `serial`.
    public func port(for serial: SerialNumber) throws(DiscoveryError) -> PortAddress {
        guard let port = ports[serial] else { throw DiscoveryError(serial: serial, probes: probes) }
        return port
    }

    /// A probe failure without the port, which the listing already shows: `ID: no complete reply...`.
    static func describe(_ error: DeviceError) -> String {
        let tries = error.attempts > 1 ? " after \(error.attempts) attempts" : ""
        return "\(error.command): \(error.detail)\(tries)"
    }
}

/// No candidate port answered with the wanted serial.
public struct DiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The serial that was looked for.
    public var serial: SerialNumber
    /// What each candidate answered.
    public var probes: [Discovery.Probe]

    public init(serial: SerialNumber, probes: [Discovery.Probe]) {
        self.serial = serial
        self.probes = probes
    }

    public var description: String {
        let hint = "check the cable, or set LVX_PORTS (or --port) to the inverter's port"
        guard !probes.isEmpty else {
            return "no inverter with serial \(serial) found: there were no ports to probe "
                + "(discovery found none and none were listed); \(hint)"
        }
        var lines = [
            "no inverter with serial \(serial) found; probed \(probes.count) port\(probes.count == 1 ? "" : "s"):"
        ]
        for probe in probes {
            switch probe.outcome {
            case .answered(let other): lines.append("  \(probe.port): answered serial \(other)")
            case .failed(let why): lines.append("  \(probe.port): \(why)")
            }
        }
        lines.append(hint)
        return lines.joined(separator: "\n")
    }
}

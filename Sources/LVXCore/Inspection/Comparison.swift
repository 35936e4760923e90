/// The seed's `compare`: two units' settings side by side.
public struct SettingsComparison: Sendable, Hashable {
    /// A key whose values differ.
    public struct Difference: Sendable, Hashable {
        public var key: SettingKey
        public var a: SettingValue
        public var b: SettingValue
    }

    public var differences: [Difference]
    public var shared: [SettingKey]
    public var onlyA: [SettingKey]
    public var onlyB: [SettingKey]

    /// Compares with the seed's rule: voltages differ when more than 0.05 V apart, everything else exactly.
    public init(_ a: Settings, _ b: Settings) {
        let aKeys = Set(a.keys)
        let bKeys = Set(b.keys)
        shared = aKeys.intersection(bKeys).sorted()
        onlyA = aKeys.subtracting(bKeys).sorted()
        onlyB = bKeys.subtracting(aKeys).sorted()
        differences = shared.compactMap { key in
            guard let av = a[key], let bv = b[key] else { return nil }
            let differ: Bool
            if case .voltage = key.kind {
                differ = abs(av.raw - bv.raw) * 100 > 5 * 10  // tenths apart, more than 0.05 V
            } else {
                differ = av != bv
            }
            return differ ? Difference(key: key, a: av, b: bv) : nil
        }
    }

    public var matches: Bool { differences.isEmpty && onlyA.isEmpty && onlyB.isEmpty }

    /// The seed's text: `MATCH - 12 settings identical on A and B`, or the differing keys.
    public func render(nameA: String, nameB: String) -> String {
        if matches { return "MATCH - \(shared.count) settings identical on \(nameA) and \(nameB)\n" }
        var out = ""
        if !differences.isEmpty {
            let width = differences.map(\.key.rawValue.count).max() ?? 0
            out += "\(differences.count) setting(s) differ (of \(shared.count) shared):\n"
            for d in differences {
                let pad = String(repeating: " ", count: width - d.key.rawValue.count)
                out += "  \(d.key.rawValue)\(pad)  \(nameA) = \(d.key.format(d.a))  \(nameB) = \(d.key.format(d.b))\n"
            }
        }
        if !onlyA.isEmpty { out += "only on \(nameA): \(onlyA.map(\.rawValue).joined(separator: ", "))\n" }
        if !onlyB.isEmpty { out += "only on \(nameB): \(onlyB.map(\.rawValue).joined(separator: ", "))\n" }
        return out
    }
}

/// The seed's `sync-check` rules for two units meant to run in parallel.
public struct SyncCheck: Sendable, Hashable {
    /// Problems that make the pair not in sync.
    public var issues: [String]
    /// Observations that do not fail the check.
    public var notes: [String]

    /// Applies the rules: main-CPU firmware parity (a slave-CPU difference is only a note: the field
    /// notes found it benign), distinct parallel indices with one master 0, no active fault on
    /// either, the same mode, and when both invert AC output within 2 V and 0.1 Hz.
    public init(_ a: UnitReport, _ b: UnitReport, nameA: String, nameB: String) {
        var issues: [String] = []
        var notes: [String] = []
        if a.firmware.main != b.firmware.main {
            issues.append(
                "firmware mismatch: main CPU \(a.firmware.main) vs \(b.firmware.main) - parallel requires matching firmware on both units"
            )
        }
        if a.firmware.slave1 != b.firmware.slave1 {
            notes.append(
                "slave CPU firmware differs (\(a.firmware.slave1) vs \(b.firmware.slave1)); benign on this firmware family per the commissioning notes"
            )
        }
        let ia = a.status.parallelIndex
        let ib = b.status.parallelIndex
        if ia == ib {
            issues.append(
                "both units report the same parallel instance index (\(ia)); should differ - cluster handshake incomplete"
            )
        }
        if ia != 0 && ib != 0 {
            issues.append("neither unit reports instance 0 - cluster has no elected master (got \(ia), \(ib))")
        }
        for (name, report) in [(nameA, a), (nameB, b)] where report.faults.fault.isFault {
            issues.append("\(name): active fault \(report.faults.fault.code) (\(report.faults.fault.name))")
        }
        if a.mode.code != b.mode.code {
            issues.append("mode differs: \(a.mode.name) (\(a.mode.code)) vs \(b.mode.name) (\(b.mode.code))")
        }
        let hzA = a.status.acOutputFrequency
        let hzB = b.status.acOutputFrequency
        if hzA > 0 && hzB > 0 && abs(hzA - hzB) > 1 {
            issues.append(
                "AC output frequency diverges: \(tenths(hzA)) Hz vs \(tenths(hzB)) Hz (>0.1 Hz = not phase-locked)"
            )
        }
        let vA = a.status.acOutputVoltage
        let vB = b.status.acOutputVoltage
        if vA > 0 && vB > 0 && abs(vA - vB) > 20 {
            issues.append("AC output voltage diverges: \(tenths(vA)) V vs \(tenths(vB)) V (>2 V gap)")
        }
        if vA == 0 && vB == 0 {
            issues.append(
                "both units AC output = 0 V (idle / not producing); frequency/voltage sync cannot be verified until at least one is inverting"
            )
        }
        self.issues = issues
        self.notes = notes
    }

    public var inSync: Bool { issues.isEmpty }

    /// One line per unit, as the seed printed them.
    public static func row(_ name: String, _ r: UnitReport) -> String {
        "\(name): fw=\(r.firmware.main)/\(r.firmware.slave1) mode=\(r.mode.name) parallel=\(r.parallelRole) "
            + "fault=\(r.faults.fault.name) vac=\(tenths(r.status.acOutputVoltage)) V fac=\(tenths(r.status.acOutputFrequency)) Hz"
    }

    /// The whole report: both rows, then `SYNC OK` or the issues.
    public func render(_ a: UnitReport, _ b: UnitReport, nameA: String, nameB: String) -> String {
        var out = Self.row(nameA, a) + "\n" + Self.row(nameB, b) + "\n\n"
        for note in notes { out += "note: \(note)\n" }
        if inSync { return out + "SYNC OK\n" }
        out += "\(issues.count) issue(s):\n"
        for issue in issues { out += "  - \(issue)\n" }
        return out
    }
}

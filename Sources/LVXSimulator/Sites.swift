import LVXCore

/// The unit sets `lvx-sim` can start from.
public enum SimulatorSites {
    /// The names `--site` accepts.
    public static let names = ["seeds"]

    /// The two commissioned LVX6048 units of the field notes, stacked as `main`.
    ///
    /// 96142109100037 is the master (index 0, firmware 06306 / 06126); 96142408100255 is index 1
    /// (06306 / 06021). Both hold the EG4 LP4 v2 settings, run in mode 05 with no fault, and report
    /// output model 1 (parallel).
    public static func seeds() -> [SimulatedInverter] {
        var master = SimulatedInverter(
            serial: serial("96142109100037"),
            firmware: FirmwareVersions(main: "06306", slave1: "06126", slave2: "00000"),
            stack: "main",
            parallelIndex: 0
        )
        master.rated.outputModel = 1
        var second = SimulatedInverter(
            serial: serial("96142408100255"),
            firmware: FirmwareVersions(main: "06306", slave1: "06021", slave2: "00000"),
            stack: "main",
            parallelIndex: 1
        )
        second.rated.outputModel = 1
        return [master, second]
    }

    /// The units of a named site.
    ///
    /// - Throws: ``SimulatorError`` for an unknown name.
    public static func named(_ name: String) throws(SimulatorError) -> [SimulatedInverter] {
        switch name {
        case "seeds": return seeds()
        default: throw SimulatorError("unknown site '\(name)'; known sites: \(names.joined(separator: ", "))")
        }
    }

    /// `count` single units (serials 96100000000001, 96100000000002, ...), each its own stack with
    /// output model 0, all with the EG4 LP4 v2 settings: for benchmarks.
    public static func numbered(_ count: Int) -> [SimulatedInverter] {
        (0..<max(0, count)).map { i in
            var unit = SimulatedInverter(serial: serial(String(96_100_000_000_001 + i)))
            unit.rated.outputModel = 0
            return unit
        }
    }

    private static func serial(_ digits: String) -> SerialNumber {
        guard let serial = SerialNumber(digits) else { preconditionFailure("built-in serial \(digits) is invalid") }
        return serial
    }
}

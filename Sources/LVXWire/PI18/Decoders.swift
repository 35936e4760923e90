import LVXCore

/// Decoders from a PI18 reply's fields to lvx's model, one per query.
///
/// Field counts follow what real units send (PIRI 26 though the PDF lists 25; FWS 18 though the
/// PDF lists 17); widths are never assumed.
public enum PI18Decode {
    /// `PI`: the protocol id, `18` for PI18.
    public static func protocolID(_ fields: [String]) throws(PI18WireError) -> String {
        try count(fields, "PI", 1...1)
        return fields[0]
    }

    /// `ID`: `LL` + 20 digits; the serial is the first `LL` digits.
    public static func serialNumber(_ fields: [String]) throws(PI18WireError) -> SerialNumber {
        try count(fields, "ID", 1...1)
        let text = fields[0]
        guard text.utf8.count == 22, let serial = SerialNumber(text) else {
            throw .badField(command: "ID", index: 0, value: text, expected: "LL followed by 20 digits, LL in 01...20")
        }
        return serial
    }

    /// `VFW`: three 5-digit CPU versions.
    public static func firmwareVersions(_ fields: [String]) throws(PI18WireError) -> FirmwareVersions {
        try count(fields, "VFW", 3...3)
        for (i, f) in fields.enumerated() where !isDigits(f) {
            throw .badField(command: "VFW", index: i, value: f, expected: "digits")
        }
        return FirmwareVersions(main: fields[0], slave1: fields[1], slave2: fields[2])
    }

    /// `PIRI`: rated information and the twelve settings (25 fields in the PDF, 26 on real units).
    public static func ratedInformation(_ fields: [String]) throws(PI18WireError) -> RatedInformation {
        try count(fields, "PIRI", 25...26)
        let n = try ints(fields, "PIRI", upTo: 25)
        var settings = Settings()
        settings[.batteryType] = SettingValue(raw: n[13])
        settings[.cutoffVoltage] = SettingValue(raw: n[10])
        settings[.stopDischargeVoltage] = SettingValue(raw: n[8])
        settings[.stopChargeVoltage] = SettingValue(raw: n[9])
        settings[.bulkVoltage] = SettingValue(raw: n[11])
        settings[.floatVoltage] = SettingValue(raw: n[12])
        settings[.maxUtilityChargingCurrent] = SettingValue(raw: n[14])
        settings[.maxChargingCurrent] = SettingValue(raw: n[15])
        settings[.outputSourcePriority] = SettingValue(raw: n[17])
        settings[.chargerPriority] = SettingValue(raw: n[18])
        settings[.gridTie] = SettingValue(raw: n[20])
        settings[.solarPowerPriority] = SettingValue(raw: n[23])
        return RatedInformation(
            settings: settings,
            batteryRatedVoltage: n[7],
            acOutputRatedVoltage: n[2],
            acOutputRatedFrequency: n[3],
            ratedActivePower: n[6],
            outputModel: n[22],
            parallelMax: n[19]
        )
    }

    /// `GS`: general status, 28 fields; field 27 is the unit's parallel index.
    public static func generalStatus(_ fields: [String]) throws(PI18WireError) -> GeneralStatus {
        try count(fields, "GS", 28...28)
        let n = try ints(fields, "GS", upTo: 28)
        return GeneralStatus(
            gridVoltage: n[0],
            gridFrequency: n[1],
            acOutputVoltage: n[2],
            acOutputFrequency: n[3],
            acOutputActivePower: n[5],
            outputLoadPercent: n[6],
            batteryVoltage: n[7],
            batteryDischargeCurrent: n[10],
            batteryChargingCurrent: n[11],
            batteryCapacity: n[12],
            pv1InputPower: n[16],
            pv2InputPower: n[17],
            parallelIndex: n[27]
        )
    }

    /// `MOD`: a 2-digit code; codes the PDF does not define (such as `06`) decode as unknown.
    public static func workingMode(_ fields: [String]) throws(PI18WireError) -> InverterMode {
        try count(fields, "MOD", 1...1)
        guard fields[0].utf8.count == 2, isDigits(fields[0]) else {
            throw .badField(command: "MOD", index: 0, value: fields[0], expected: "2 digits")
        }
        return InverterMode(code: fields[0])
    }

    /// `FWS`: the fault code and 16 (PDF) or 17 (real units) flags.
    public static func faultStatus(_ fields: [String]) throws(PI18WireError) -> FaultStatus {
        try count(fields, "FWS", 17...18)
        guard fields[0].utf8.count == 2, isDigits(fields[0]) else {
            throw .badField(command: "FWS", index: 0, value: fields[0], expected: "a 2-digit fault code")
        }
        var flags: [Bool] = []
        for (i, f) in fields.enumerated().dropFirst() {
            guard f == "0" || f == "1" else { throw .badField(command: "FWS", index: i, value: f, expected: "0 or 1") }
            flags.append(f == "1")
        }
        return FaultStatus(fault: FaultCode(code: fields[0]), flags: flags)
    }

    /// `FLAG`: nine 0/1 flags.
    public static func flags(_ fields: [String]) throws(PI18WireError) -> [Bool] {
        try count(fields, "FLAG", 9...9)
        var out: [Bool] = []
        for (i, f) in fields.enumerated() {
            guard f == "0" || f == "1" else { throw .badField(command: "FLAG", index: i, value: f, expected: "0 or 1") }
            out.append(f == "1")
        }
        return out
    }

    /// `MCHGCR` / `MUCHGCR`: the amp values the matching setter accepts.
    public static func currentOptions(_ fields: [String], command: String) throws(PI18WireError) -> [Int] {
        try count(fields, command, 1...32)
        return try ints(fields, command, upTo: fields.count)
    }

    private static func count(_ fields: [String], _ command: String, _ range: ClosedRange<Int>) throws(PI18WireError) {
        guard range.contains(fields.count) else {
            let expected = range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw .fieldCount(command: command, expected: expected, got: fields.count)
        }
    }

    private static func ints(_ fields: [String], _ command: String, upTo limit: Int) throws(PI18WireError) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(limit)
        for i in 0..<limit {
            let f = fields[i]
            guard isDigits(f), let v = Int(f) else {
                throw .badField(command: command, index: i, value: f, expected: "an unsigned number")
            }
            out.append(v)
        }
        return out
    }

    private static func isDigits(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

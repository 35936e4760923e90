import LVXCore
import LVXSimulator
import LVXWire
import Testing

@Suite("Setters: validation, honouring and stacks")
struct SetterTests {
    private func piri(_ unit: inout SimulatedInverter) throws -> [String] {
        try fields(ask(&unit, PI18Query.ratedInformation.frame.bytes))
    }

    @Test(
        "accepted setters change the state PIRI reports",
        arguments: [
            ("PBT1", SettingKey.batteryType, 1),
            ("PSDV440", .cutoffVoltage, 440),
            ("POP0", .outputSourcePriority, 0),
            ("PSP0", .solarPowerPriority, 0),
            ("PCP0,2", .chargerPriority, 2),
            ("MCHGC0,080", .maxChargingCurrent, 80),
            ("MUCHGC0,002", .maxUtilityChargingCurrent, 2),
            ("PEI", .gridTie, 1),
        ]
    )
    func accepted(_ payload: String, _ key: SettingKey, _ value: Int) throws {
        var unit = seedUnit(0)
        #expect(try ask(&unit, Frames.setter(payload)) == .accepted)
        #expect(unit.settings[key] == SettingValue(raw: value))
        let decoded = try PI18Decode.ratedInformation(try piri(&unit))
        #expect(decoded.settings[key] == SettingValue(raw: value))
    }

    @Test("lvx's own setter frames are accepted (PI18Setter encoding)")
    func lvxFrames() throws {
        var unit = seedUnit(0)
        let writes: [SettingWrite] = [
            .chargeVoltages(bulk: SettingValue(raw: 560), float: SettingValue(raw: 530)),
            .stopVoltages(stopDischarge: SettingValue(raw: 460), stopCharge: SettingValue(raw: 0)),
            .maxChargingCurrent(SettingValue(raw: 40), parallelIndex: 0),
            .outputSourcePriority(SettingValue(raw: 0)),
            .gridTie(SettingValue(raw: 1)),
        ]
        for write in writes {
            #expect(try ask(&unit, PI18Setter(write).frame.bytes) == .accepted, "\(write)")
            for (key, value) in write.expected.entries { #expect(unit.settings[key] == value, "\(key)") }
        }
    }

    @Test("PEI and PDI set PIRI field 20 to 1 and 0")
    func gridTie() throws {
        var unit = seedUnit(0)
        #expect(try ask(&unit, Frames.setter("PEI")) == .accepted)
        #expect(try piri(&unit)[20] == "1")
        #expect(try ask(&unit, Frames.setter("PDI")) == .accepted)
        #expect(try piri(&unit)[20] == "0")
    }

    @Test(
        "malformed and out-of-range setters are refused and change nothing",
        arguments: [
            "POP01", "POP2", "PSP2", "PSP", "PBT3", "PBT02", "PCP0,3", "PCP0,12", "PCP00,1", "PSDV399", "PSDV481",
            "PSDV45", "BUCD435,540", "BUCD520,540", "BUCD445,540", "BUCD450,475", "BUCD450,590", "BUCD450,545",
            "BUCD450540", "MCHGV585,540", "MCHGV564,479", "MCHGV530,540", "MCHGV56,54", "MCHGC0,100", "MCHGC0,060,1",
            "MCHGC0,60", "MCHGC0,065", "MUCHGC0,005", "MUCHGC0,100", "PEI1", "PDIX", "XYZ", "PBS1",
        ]
    )
    func refused(_ payload: String) throws {
        var unit = seedUnit(0)
        let before = unit.settings
        #expect(try ask(&unit, Frames.setter(payload)) == .refused)
        #expect(unit.settings == before)
    }

    @Test("100 A set from the LCD is reported but MCHGC0,100 is refused (not in MCHGCR)")
    func lcdValueNotSettable() throws {
        var unit = seedUnit(0)
        unit.settings[.maxChargingCurrent] = SettingValue(raw: 100)
        #expect(try piri(&unit)[15] == "100")
        #expect(try ask(&unit, Frames.setter("MCHGC0,100")) == .refused)
        #expect(try ask(&unit, Frames.setter("MCHGC0,060")) == .accepted)
        #expect(unit.settings[.maxChargingCurrent] == SettingValue(raw: 60))
        unit.chargingCurrentOptions.append(100)
        #expect(try ask(&unit, Frames.setter("MCHGC0,100")) == .accepted)
    }

    @Test("BUCD: a stop-charge voltage above the current float is refused; 000 (full) and equal are accepted")
    func stopChargeAboveFloat() throws {
        var unit = seedUnit(0)  // float 54.0 V
        #expect(try ask(&unit, Frames.setter("BUCD480,550")) == .refused)
        #expect(unit.value(.stopChargeVoltage) == 540)
        #expect(try ask(&unit, Frames.setter("BUCD470,540")) == .accepted)
        #expect(unit.value(.stopDischargeVoltage) == 470)
        #expect(try ask(&unit, Frames.setter("BUCD490,000")) == .accepted)
        #expect(unit.value(.stopChargeVoltage) == 0 && unit.value(.stopDischargeVoltage) == 490)
        #expect(try ask(&unit, Frames.setter("MCHGV568,560")) == .accepted)
        #expect(try ask(&unit, Frames.setter("BUCD480,550")) == .accepted)
    }

    @Test("voltage setters are acknowledged but not honoured unless the battery type is USER")
    func voltagesNeedUser() throws {
        var unit = seedUnit(0)
        #expect(try ask(&unit, Frames.setter("PBT0")) == .accepted)
        let before = unit.settings
        for payload in ["PSDV440", "BUCD460,530", "MCHGV560,530"] {
            #expect(try ask(&unit, Frames.setter(payload)) == .accepted, "\(payload)")
        }
        #expect(unit.settings == before)
        // Still validated: an out-of-range value is refused even when it would not be honoured.
        #expect(try ask(&unit, Frames.setter("PSDV300")) == .refused)
        #expect(try ask(&unit, Frames.setter("PBT2")) == .accepted)
        #expect(try ask(&unit, Frames.setter("PSDV440")) == .accepted)
        #expect(unit.value(.cutoffVoltage) == 440)
    }

    @Test(
        "setters lvx never sends are refused, logged and never change state",
        arguments: [
            "PF", "CLE", "DAT250615123000", "ID1401234567890123000000", "F50", "F60", "V2300", "LON1", "LON0", "PEA",
            "PDA", "PEH", "PDB", "PGR1", "POPM0,1", "ACCT0000,0000", "ACLT0000,0000",
        ]
    )
    func forbidden(_ payload: String) throws {
        var site = try SimulatedSite(units: SimulatorSites.seeds())
        let master = seedUnit(0).serial
        let before = site.units.map(\.settings)
        let ex = try exchange(&site, master, Frames.setter(payload))
        #expect(try reply(ex) == .refused)
        #expect(ex.entry.kind == .setter && ex.entry.reply == .nak)
        #expect(ex.entry.payload == payload)
        #expect(ex.entry.note?.hasPrefix("forbidden:") == true)
        #expect(site.units.map(\.settings) == before)
        #expect(site[master]?.firmware == seedUnit(0).firmware)
    }

    @Test("an injected ignore acknowledges the setter but keeps the old value (silent revert)")
    func ignored() throws {
        var unit = seedUnit(0)
        unit.faults.ignoredKeys = [.floatVoltage]
        #expect(try ask(&unit, Frames.setter("MCHGV560,530")) == .accepted)
        #expect(unit.value(.bulkVoltage) == 560)
        #expect(unit.value(.floatVoltage) == 540)
        unit.faults.ignoredKeys = [.maxChargingCurrent]
        #expect(try ask(&unit, Frames.setter("MCHGC0,020")) == .accepted)
        #expect(unit.value(.maxChargingCurrent) == 60)
    }

    @Test("an injected refuse answers ^0 for that key only")
    func injectedRefuse() throws {
        var unit = seedUnit(0)
        try unit.faults.add("refuse=max_charging_current")
        #expect(try ask(&unit, Frames.setter("MCHGC0,050")) == .refused)
        #expect(unit.value(.maxChargingCurrent) == 60)
        #expect(try ask(&unit, Frames.setter("MUCHGC0,050")) == .accepted)
    }

    @Test("the parallel digit routes MCHGC, MUCHGC and PCP to the stack member with that index")
    func routing() throws {
        var site = try SimulatedSite(units: SimulatorSites.seeds())
        let master = seedUnit(0).serial
        let second = seedUnit(1).serial
        for (payload, key, value) in [
            ("MCHGC1,050", SettingKey.maxChargingCurrent, 50), ("MUCHGC1,020", .maxUtilityChargingCurrent, 20),
            ("PCP1,1", .chargerPriority, 1),
        ] {
            let ex = try exchange(&site, master, Frames.setter(payload))
            #expect(try reply(ex) == .accepted)
            #expect(ex.entry.note == "routed:\(second)")
            #expect(site[second]?.settings[key] == SettingValue(raw: value))
            #expect(site[master]?.settings[key] == seedUnit(0).settings[key])
            #expect(ex.changed.contains(second))
        }
        // Sent to the second unit with digit 0: writes the master.
        #expect(try reply(exchange(&site, second, Frames.setter("MCHGC0,070"))) == .accepted)
        #expect(site[master]?.value(.maxChargingCurrent) == 70)
        // No member has index 2.
        let none = try exchange(&site, master, Frames.setter("MCHGC2,050"))
        #expect(try reply(none) == .refused && none.entry.note == "no-unit-at-index-2")
        // A single unit refuses any digit but its own.
        var single = SimulatorSites.numbered(1)[0]
        #expect(try ask(&single, Frames.setter("MCHGC1,050")) == .refused)
        #expect(try ask(&single, Frames.setter("MCHGC0,050")) == .accepted)
    }

    @Test("a member whose settings differ from the master's reports fault 86 until they match again")
    func fault86() throws {
        var site = try SimulatedSite(units: SimulatorSites.seeds())
        let master = seedUnit(0).serial
        let second = seedUnit(1).serial
        func fault(_ s: SerialNumber) throws -> String {
            try PI18Decode.faultStatus(try fields(reply(exchange(&site, s, Frames.query("FWS"))))).fault.code
        }
        #expect(try fault(second) == "00")
        _ = try exchange(&site, master, Frames.setter("MCHGC1,050"))
        #expect(try fault(second) == "86")
        #expect(try fault(master) == "00")
        // The master follows: settings match again, the fault clears.
        _ = try exchange(&site, master, Frames.setter("MCHGC0,050"))
        #expect(try fault(second) == "00")
        // A difference made on the master also shows on the member.
        _ = try exchange(&site, master, Frames.setter("POP0"))
        #expect(try fault(second) == "86")
        // An injected fault wins over the derived 86.
        site.update(second) { $0.faults.fault = "71" }
        #expect(try fault(second) == "71")
        site.update(second) { $0.faults.fault = nil }
        #expect(try fault(second) == "86")
        _ = try exchange(&site, second, Frames.setter("POP0"))
        #expect(try fault(second) == "00")
    }

    @Test("a site rejects duplicate serials and two members at one index")
    func siteValidation() throws {
        #expect(throws: SimulatorError.self) { try SimulatedSite(units: [seedUnit(0), seedUnit(0)]) }
        var clash = seedUnit(1)
        clash.parallelIndex = 0
        #expect(throws: SimulatorError.self) { try SimulatedSite(units: [seedUnit(0), clash]) }
    }
}

import Foundation
import LVXCore
import LVXSimulator
import Testing

@Suite("State files, config files and --set")
struct UnitDocumentTests {
    @Test("the state file holds the settings in lvx's names and units and reads back to the same unit")
    func stateRoundTrip() throws {
        var unit = seedUnit(1)
        unit.settings[.floatVoltage] = SettingValue(raw: 535)
        try unit.faults.add("drop=2")
        try unit.faults.add("ignore=float_voltage")
        unit.wireSeconds = 1.5
        unit.requestCount = 7
        let text = UnitDocument.stateJSON(unit, reportedFault: "86")
        #expect(text.contains("\"float_voltage\": 53.5"))
        #expect(text.contains("\"battery_type\": \"USER\""))
        #expect(text.contains("\"grid_tie\": \"disabled\""))
        #expect(text.contains("\"max_charging_current\": 60"))
        #expect(text.contains("\"reported_fault\": \"86\""))
        #expect(text.contains("\"faults\": [\"drop=2\", \"ignore=float_voltage\"]"))
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(json?["parallel_index"] as? Int == 1)
        var fresh = SimulatedInverter(serial: unit.serial)
        try UnitDocument.reload(Data(text.utf8), into: &fresh, file: "x.json")
        #expect(fresh == unit)
    }

    @Test("reload refuses a file of another unit and bad values, leaving the unit unchanged")
    func reloadErrors() throws {
        var unit = seedUnit(0)
        let other = UnitDocument.stateJSON(seedUnit(1), reportedFault: "00")
        #expect(throws: SimulatorError.self) { try UnitDocument.reload(Data(other.utf8), into: &unit, file: "x") }
        let bad = #"{"settings": {"float_voltage": "hot"}}"#
        #expect(throws: SimulatorError.self) { try UnitDocument.reload(Data(bad.utf8), into: &unit, file: "x") }
        #expect(unit == seedUnit(0))
    }

    @Test("a config file describes units; omitted fields take the defaults")
    func config() throws {
        let text = #"""
            {"units": [
              {"serial": "1001", "stack": "a", "parallel_index": 0, "settings": {"float_voltage": 53.5, "battery_type": "AGM"}},
              {"serial": "1002", "stack": "a", "parallel_index": 1, "firmware": {"main": "06440"},
               "mode": "06", "faults": ["refuse=max_charging_current"]},
              {"serial": "1003", "output_model": 3}
            ]}
            """#
        let units = try UnitDocument.loadConfig(Data(text.utf8), file: "site.json")
        #expect(units.count == 3)
        #expect(units[0].value(.floatVoltage) == 535 && units[0].value(.batteryType) == 0)
        #expect(units[0].value(.bulkVoltage) == 564)
        #expect(units[1].firmware.main == "06440" && units[1].firmware.slave1 == "06126")
        #expect(units[1].mode == "06" && units[1].faults.refusedKeys == [.maxChargingCurrent])
        #expect(units[0].rated.outputModel == 1 && units[1].rated.outputModel == 1)
        #expect(units[2].rated.outputModel == 3 && units[2].stack == "1003")
        let site = try SimulatedSite(units: units)
        #expect(site.reportedFault(of: units[1]) == "86")
    }

    @Test(
        "config errors name the file and entry",
        arguments: [
            #"{"units": [{"stack": "a"}]}"#,
            #"{"units": [{"serial": "1", "settings": {"colour": 1}}]}"#,
            #"{"units": [{"serial": "1", "mode": 5}]}"#,
            #"{"units": [{"serial": "1", "faults": ["melt=1"]}]}"#,
            #"{"units": 3}"#,
            "not json",
        ]
    )
    func configErrors(_ text: String) {
        #expect {
            _ = try UnitDocument.loadConfig(Data(text.utf8), file: "site.json")
        } throws: { error in
            (error as? SimulatorError)?.message.hasPrefix("site.json") == true
        }
    }

    @Test("--set takes lvx units and LCD-only values")
    func set() throws {
        var unit = seedUnit(0)
        try UnitDocument.set("float_voltage=53.5", on: &unit)
        try UnitDocument.set("max_charging_current=100", on: &unit)
        try UnitDocument.set("output_source_priority=solar_utility_battery", on: &unit)
        try UnitDocument.set("parallel_index=3", on: &unit)
        try UnitDocument.set("firmware_main=06440", on: &unit)
        #expect(unit.value(.floatVoltage) == 535 && unit.value(.maxChargingCurrent) == 100)
        #expect(unit.value(.outputSourcePriority) == 0 && unit.parallelIndex == 3 && unit.firmware.main == "06440")
        for bad in ["float_voltage", "colour=red", "grid_tie=maybe", "mode=6"] {
            #expect(throws: SimulatorError.self, "\(bad)") { try UnitDocument.set(bad, on: &unit) }
        }
    }

    @Test("log lines round-trip")
    func logLine() throws {
        let entry = RequestLogEntry(
            sequence: 7,
            kind: .setter,
            payload: "MCHGC1,060",
            reply: .ack,
            wireSeconds: 0.075,
            note: "routed:96142408100255"
        )
        #expect(entry.description == "7 S MCHGC1,060 ack 0.075000 routed:96142408100255")
        #expect(RequestLogEntry(line: entry.description) == entry)
        #expect(RequestLogEntry(line: "7 X PIRI data 0.1") == nil)
    }
}

import LVXCore
import Testing

@Suite struct UnitValidationTests {
    @Test func rawIDFormSerialIsTheShortForm() throws {
        let loaded = try load(
            """
            units:
              1496142109100037000000: {name: lvx6048-1, profile: eg4-lp4-v2}
              "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2}
            """
        )
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        let short = try #require(SerialNumber("96142109100037"))
        #expect(state.unit(serial: short)?.name == "lvx6048-1")
        #expect(state.units.first?.serial.description == "96142109100037")
        #expect(SerialNumber("1496142109100037000000") == short)
    }

    @Test func shortAndRawFormOfOneSerialAreDuplicates() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2}
              1496142109100037000000: {name: lvx6048-2, profile: eg4-lp4-v2}
            """
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:3:3: error: duplicate serial '1496142109100037000000' (= 96142109100037) (first at line 2)"
            ]
        )
        #expect(loaded.hints == ["list each inverter once"])
        #expect(loaded.codes == ["duplicate-serial"])
    }

    @Test func repeatedShortSerialIsADuplicate() throws {
        let loaded = try load(
            """
            units:
              96142109100037: {name: lvx6048-1, profile: eg4-lp4-v2}
              "96142109100037": {name: lvx6048-2, profile: eg4-lp4-v2}
            """
        )
        #expect(loaded.descriptions == ["lvx.yaml:3:3: error: duplicate serial '96142109100037' (first at line 2)"])
    }

    @Test(arguments: ["abc", "9614-2109", "123456789012345678901", "0096142109100037000000"])
    func malformedSerials(serial: String) throws {
        let loaded = try load("units:\n  \"\(serial)\": {name: lvx6048-1, profile: eg4-lp4-v2}")
        #expect(loaded.descriptions == ["lvx.yaml:2:3: error: malformed serial '\(serial)'"])
        #expect(
            loaded.hints == [
                "use the serial as the inverter reports it: up to 20 digits, or the 22-digit ID reply"
            ]
        )
    }

    @Test func duplicateNames() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2}
              "96142408100255": {name: lvx6048-1, profile: eg4-lp4-v2}
            """
        )
        #expect(loaded.descriptions == ["lvx.yaml:3:28: error: duplicate unit name 'lvx6048-1' (first at line 2)"])
        #expect(loaded.codes == ["duplicate-name"])
    }

    @Test func unusableName() throws {
        let loaded = try load("units:\n  \"96142109100037\": {name: \"lvx 1\", profile: eg4-lp4-v2}")
        #expect(
            loaded.descriptions == [
                "lvx.yaml:2:28: error: unit name 'lvx 1' must start with a letter or digit and hold only letters, digits, '.', '_' and '-'"
            ]
        )
    }

    @Test func unknownProfileListsTheAvailableOnes() throws {
        let loaded = try load(
            "units:\n  \"96142109100037\": {name: lvx6048-1, profile: eg4-lp4}",
            profiles: ["eg4-lp4-v2": Fixture.seedProfile, "agm-bank": "battery_type: AGM"]
        )
        #expect(loaded.descriptions == ["lvx.yaml:2:48: error: unknown profile 'eg4-lp4'; did you mean 'eg4-lp4-v2'?"])
        #expect(loaded.hints == ["available profiles: agm-bank, eg4-lp4-v2 (the files profiles/NAME.yaml)"])
        #expect(loaded.codes == ["unknown-profile"])
    }

    @Test func unknownProfileWithNoProfilesAtAll() throws {
        let loaded = try load("units:\n  \"96142109100037\": {name: lvx6048-1, profile: eg4}", profiles: [:])
        #expect(loaded.descriptions == ["lvx.yaml:2:48: error: unknown profile 'eg4'"])
        #expect(loaded.hints == ["there are no profiles; add profiles/eg4.yaml"])
    }

    @Test func missingNameAndProfile() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {port: "hidraw:/dev/hidraw0"}
              "96142408100255":
                name:
                profile: eg4-lp4-v2
            """
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:2:21: error: missing required key 'name' for unit '96142109100037'",
                "lvx.yaml:2:21: error: missing required key 'profile' for unit '96142109100037'",
                "lvx.yaml:4:5: error: 'name' has no value for unit '96142408100255'",
            ]
        )
        #expect(
            loaded.hints == [
                "add a name such as name: lvx6048-1",
                "add the name of a file in profiles/, such as profile: eg4-lp4-v2",
                "add a name such as name: lvx6048-1",
            ]
        )
        #expect(loaded.codes == ["missing-key", "missing-key", "empty-value"])
    }

    @Test func unknownUnitKeySuggestsTheClosest() throws {
        let loaded = try load("units:\n  \"96142109100037\": {name: lvx6048-1, profle: eg4-lp4-v2}")
        #expect(
            loaded.descriptions == [
                "lvx.yaml:2:21: error: missing required key 'profile' for unit '96142109100037'",
                "lvx.yaml:2:39: error: unknown key 'profle'; did you mean 'profile'?",
            ]
        )
        #expect(loaded.hints.last == "allowed here: name, profile, port, tolerances, parallel_index")
    }

    @Test func unitWithoutAMapping() throws {
        let loaded = try load("units:\n  \"96142109100037\": lvx6048-1\n  \"96142408100255\":")
        #expect(
            loaded.descriptions == [
                "lvx.yaml:2:21: error: expected a mapping for unit '96142109100037', got 'lvx6048-1'",
                "lvx.yaml:3:20: error: expected a mapping for unit '96142408100255', got nothing",
            ]
        )
    }

    @Test func portMustBeAString() throws {
        let loaded = try load("units:\n  \"96142109100037\": {name: lvx6048-1, profile: eg4-lp4-v2, port: [a]}")
        #expect(loaded.descriptions == ["lvx.yaml:2:66: error: expected a string for 'port', got a list"])
        #expect(loaded.hints == ["such as port: \"hidraw:/dev/hidraw1\""])
    }

    /// `lvx.yaml` with one unit whose `port:` is `port`, the value at line 5, column 11.
    static func site(port: String) -> String {
        """
        units:
          "96142109100037":
            name: lvx6048-1
            profile: eg4-lp4-v2
            port: "\(port)"
        """
    }

    @Test(
        "a port string the transports would not accept is an error at the port value",
        arguments: [
            ("COM3", "it is neither a device path nor a hidraw:, serial: or tcp:// port"),
            ("ttyUSB0", "it is neither a device path nor a hidraw:, serial: or tcp:// port"),
            ("   ", "it is empty"),
            ("serial:ttyUSB0", "the serial path must be absolute"),
            (
                "serial:/dev/ttyUSB0?baud=2401",
                "baud '2401' is not one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200"
            ),
            ("/dev/ttyUSB0?parity=even", "the only serial option is ?baud=N"),
            ("hidraw:dev/hidraw0", "the hidraw path must be absolute"),
            ("hidraw:/dev/hidraw0?baud=9600", "hidraw ports take no options"),
            ("/dev/hidraw0?baud=9600", "hidraw ports take no options"),
            ("tcp://bridge", "the port number is missing (tcp://HOST:PORT)"),
            ("tcp://:8899", "the host is empty"),
            ("tcp://bridge:0", "'0' is not a port number from 1 to 65535"),
            ("tcp://::1:80", "an IPv6 host must be written in brackets, [::1]"),
            ("tcp://[::1:80", "the IPv6 host has no closing ']'"),
            ("udp://bridge:23", "only tcp:// is supported as a network port"),
        ]
    )
    func malformedPorts(port: String, reason: String) throws {
        let loaded = try load(Self.site(port: port))
        #expect(loaded.descriptions == ["lvx.yaml:5:11: error: port '\(port)' is not valid: \(reason)"])
        #expect(
            loaded.hints == [
                "accepted forms: hidraw:/dev/hidraw0, /dev/hidraw0, serial:/dev/ttyUSB0?baud=2400, tcp://HOST:PORT"
            ]
        )
        #expect(loaded.codes == ["malformed-port"])
        #expect(loaded.state == nil)
    }

    @Test(
        "every accepted form of port string is valid and kept as written",
        arguments: [
            "hidraw:/dev/hidraw0", "/dev/hidraw0", "serial:/dev/ttyUSB0?baud=2400", "/dev/ttyUSB0",
            "serial:/dev/ttyS1?baud=9600", "tcp://10.0.0.5:8899", "tcp://[::1]:5000", "tcp://bridge.local:23",
        ]
    )
    func acceptedPorts(port: String) throws {
        let loaded = try load(Self.site(port: port))
        #expect(loaded.descriptions == [])
        #expect(try #require(loaded.state).units.first?.port == port)
    }

    @Test(arguments: [("-1", "-1"), ("10", "10"), ("1.5", "1.5")])
    func parallelIndexOutOfRange(text: String, shown: String) throws {
        let loaded = try load("units:\n  \"96142109100037\": {name: a, profile: eg4-lp4-v2, parallel_index: \(text)}")
        #expect(
            loaded.descriptions == [
                "lvx.yaml:2:68: error: 'parallel_index' must be a whole number from 0 to 9, got \(shown)"
            ]
        )
        #expect(loaded.hints == ["0 is the master; the others count up from 1"])
    }
}

@Suite struct StackValidationTests {
    private let otherProfile = """
        battery_type: USER
        cutoff_voltage: 48.0
        stop_discharge_voltage: 48.0
        stop_charge_voltage: 0
        bulk_voltage: 56.4
        float_voltage: 54.0
        max_utility_charging_current: 30
        max_charging_current: 80
        output_source_priority: solar_battery_utility
        charger_priority: solar_first
        solar_power_priority: load_battery_utility
        grid_tie: disabled
        """

    @Test func membersWithDifferentProfilesMustAgree() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2}
              "96142408100255": {name: lvx6048-2, profile: fast-charge}
            stacks:
              main: [lvx6048-1, lvx6048-2]
            """,
            profiles: ["eg4-lp4-v2": Fixture.seedProfile, "fast-charge": otherProfile]
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:3: error: units in stack 'main' must hold identical settings, but 'stop_charge_voltage' differs (lvx6048-1: 54.0, lvx6048-2: 0.0); 'max_charging_current' differs (lvx6048-1: 60, lvx6048-2: 80)"
            ]
        )
    }

    @Test func aKeyOnlyOneProfileSetsIsADifference() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: a, profile: eg4-lp4-v2}
              "96142408100255": {name: b, profile: partial}
            stacks:
              main: [a, b]
            """,
            profiles: [
                "eg4-lp4-v2": Fixture.seedProfile,
                "partial": otherProfile.replacingFirst("grid_tie: disabled", with: ""),
            ]
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:3: error: units in stack 'main' must hold identical settings, but 'stop_charge_voltage' differs (a: 54.0, b: 0.0); 'max_charging_current' differs (a: 60, b: 80); 'grid_tie' differs (a: disabled, b: not set)"
            ]
        )
    }

    @Test func acceptedDriftOnEveryMemberKeepsTheStackIdentical() throws {
        let loaded = try load(
            Fixture.seedSite + """

                accept:
                  - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD, program 02"}
                  - {unit: lvx6048-2, key: max_charging_current, value: 100, reason: "set on the LCD, program 02"}
                """
        )
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        let settings = state.units.map { state.effectiveSettings(for: $0, at: Fixture.today)[.maxChargingCurrent] }
        #expect(settings == [SettingValue(raw: 100), SettingValue(raw: 100)])
    }

    @Test func unknownAndRepeatedMembers() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    stacks:
                      main: [lvx6048-1, lvx6048-1, lvx6048-3, 96142408100255]
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:5:21: error: unit 'lvx6048-1' is listed twice in stack 'main'",
                "lvx.yaml:5:32: error: unknown unit 'lvx6048-3' in stack 'main'; did you mean 'lvx6048-1'?",
                "lvx.yaml:5:43: error: unknown unit '96142408100255' in stack 'main'",
            ]
        )
        #expect(
            loaded.hints == [
                "remove one of them",
                "units are named in 'units': lvx6048-1, lvx6048-2",
                "name the unit rather than its serial: 'lvx6048-2'",
            ]
        )
        #expect(loaded.codes == ["duplicate-member", "unknown-unit", "unknown-unit"])
    }

    @Test func aUnitInTwoStacks() throws {
        let loaded = try load(
            Fixture.twoUnits(
                extra: """
                    stacks:
                      main: [lvx6048-1, lvx6048-2]
                      spare: [lvx6048-2]
                    """
            )
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:6:3: warning: stack 'spare' has only one unit",
                "lvx.yaml:6:11: error: unit 'lvx6048-2' is already in stack 'main'",
            ]
        )
        #expect(
            loaded.hints == [
                "a stack groups units in parallel; list at least two or remove it", "a unit can be in one stack only",
            ]
        )
        #expect(loaded.codes == ["small-stack", "unit-in-two-stacks"])
    }

    @Test func stackMembersMustBeAList() throws {
        let loaded = try load(Fixture.twoUnits(extra: "stacks:\n  main: lvx6048-1"))
        #expect(loaded.descriptions == ["lvx.yaml:5:9: error: expected a list for stack 'main', got 'lvx6048-1'"])
        #expect(loaded.hints == ["list the unit names, such as [lvx6048-1, lvx6048-2]"])
    }

    @Test func duplicateParallelIndexInAStack() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2, parallel_index: 1}
              "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2, parallel_index: 1}
            stacks:
              main: [lvx6048-1, lvx6048-2]
            """
        )
        #expect(
            loaded.descriptions == [
                "lvx.yaml:3:76: error: parallel_index 1 of unit 'lvx6048-2' is already used by 'lvx6048-1' in stack 'main'"
            ]
        )
        #expect(loaded.codes == ["duplicate-parallel-index"])
    }

    @Test func equalParallelIndexOutsideAStackIsFine() throws {
        let loaded = try load(
            """
            units:
              "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2, parallel_index: 0}
              "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2, parallel_index: 0}
            """
        )
        #expect(loaded.descriptions == [])
    }
}

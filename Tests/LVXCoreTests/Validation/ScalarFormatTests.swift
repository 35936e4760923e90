import Testing

@testable import LVXCore

@Suite struct ScalarFormatTests {
    @Test(arguments: [
        ("54", 540), ("54.0", 540), ("53.5", 535), ("+48", 480), ("-0.5", -5), (".5", 5), ("54.", 540), ("054.50", 545),
    ])
    func decimalsScaleExactly(text: String, tenths: Int) throws {
        let number = try #require(DecimalNumber(text))
        #expect(number.scaled(decimals: 1) == tenths)
    }

    @Test(arguments: ["", "-", ".", "abc", "5e1", "1_000", "0x10", "54.0.1", "1 2", "1234567890123"])
    func notDecimals(text: String) {
        #expect(DecimalNumber(text) == nil)
    }

    @Test func tooManyDecimalsDoNotScale() throws {
        let number = try #require(DecimalNumber("54.05"))
        #expect(number.scaled(decimals: 1) == nil)
        #expect(number.scaled(decimals: 2) == 5_405)
        #expect(number.truncated(decimals: 1) == 540)
    }

    @Test func editDistanceCountsASwapAsOne() {
        #expect(Suggestion.distance("flaot_voltage", "float_voltage") == 1)
        #expect(Suggestion.distance("", "abc") == 3)
        #expect(Suggestion.distance("kitten", "sitting") == 3)
    }

    @Test func suggestionsOnlyForLikelyTypos() {
        let keys = SettingKey.allCases.map(\.rawValue)
        #expect(Suggestion.closest(to: "flaot_voltage", among: keys) == "float_voltage")
        #expect(Suggestion.closest(to: "bulk_votage", among: keys) == "bulk_voltage")
        #expect(Suggestion.closest(to: "Battery_Type", among: keys) == "battery_type")
        #expect(Suggestion.closest(to: "colour", among: keys) == nil)
    }

    @Test func durations() {
        #expect(TextFormats.durationSeconds("24h") == 86_400)
        #expect(TextFormats.durationSeconds("1d1h1m1s") == 90_061)
        #expect(TextFormats.durationSeconds("h") == nil)
        #expect(TextFormats.durationSeconds("24") == nil)
        #expect(TextFormats.durationSeconds("24 h") == nil)
        #expect(TextFormats.durationSeconds("9999999999d") == nil)
    }

    @Test func systemdUnitNames() {
        #expect(TextFormats.isSystemdUnitName("powermon.service"))
        #expect(TextFormats.isSystemdUnitName("getty@tty1.service"))
        #expect(!TextFormats.isSystemdUnitName(".service"))
        #expect(!TextFormats.isSystemdUnitName("powermon"))
        #expect(!TextFormats.isSystemdUnitName("a b.service"))
    }

    @Test func simpleNames() {
        #expect(TextFormats.isSimpleName("lvx6048-1"))
        #expect(TextFormats.isSimpleName("main_stack.2"))
        #expect(!TextFormats.isSimpleName("-x"))
        #expect(!TextFormats.isSimpleName("a/b"))
        #expect(!TextFormats.isSimpleName(""))
    }
}

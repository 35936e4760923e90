import LVXCore
import Testing

@Suite struct CivilDateTests {
    @Test func parsesStrictISODates() throws {
        let date = try #require(CivilDate(parsing: "2026-12-31"))
        #expect((date.year, date.month, date.day) == (2026, 12, 31))
        #expect(date.description == "2026-12-31")
        #expect(CivilDate(parsing: "2024-02-29") != nil)
    }

    @Test(arguments: [
        "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-1-01", "26-01-01", "2026/01/01", " 2026-01-01",
        "0000-01-01",
    ])
    func rejectsMalformedOrNonexistentDates(text: String) {
        #expect(CivilDate(parsing: text) == nil)
    }

    @Test func ordersChronologically() {
        #expect(Fixture.date("2026-12-31") < Fixture.date("2027-01-01"))
        #expect(Fixture.date("2026-02-01") > Fixture.date("2026-01-31"))
        #expect(Fixture.date("2026-06-01") == Fixture.date("2026-06-01"))
    }

    @Test func dayOfAWallTimeUsesItsOffset() {
        // 2026-11-21 03:30 UTC is still 2026-11-20 in New York (UTC-5).
        let time = WallTime(secondsSince1970: 1_795_231_800, utcOffsetMinutes: 0)
        #expect(CivilDate(time) == Fixture.date("2026-11-21"))
        #expect(
            CivilDate(WallTime(secondsSince1970: 1_795_231_800, utcOffsetMinutes: -300)) == Fixture.date("2026-11-20")
        )
        #expect(CivilDate(WallTime(secondsSince1970: -1)) == Fixture.date("1969-12-31"))
        #expect(CivilDate(WallTime(secondsSince1970: 0)) == Fixture.date("1970-01-01"))
    }

    @Test func daysSince1970RoundTrips() {
        for days: Int64 in [-800_000, -1, 0, 1, 11_016, 20_413, 2_000_000] {
            #expect(CivilDate(daysSince1970: days).daysSince1970 == days)
        }
        #expect(Fixture.date("2000-03-01").daysSince1970 == 11_017)
    }
}

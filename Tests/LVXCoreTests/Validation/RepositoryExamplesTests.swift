import Foundation
import LVXCore
import LVXTestSupport
import Testing

/// The sites shipped in the repository must validate clean, through the same loader `lvx validate` uses.
@Suite struct RepositoryExamplesTests {
    /// Reads `lvx.yaml` and `profiles/*.yaml` under `directory` (relative to the package root).
    private func loadSite(_ directory: String, today: CivilDate = Fixture.today) throws -> Loaded {
        let root = PackagePaths.root().appendingPathComponent(directory)
        var files: [String: Node] = [:]
        let site = try String(contentsOf: root.appendingPathComponent("lvx.yaml"), encoding: .utf8)
        files["lvx.yaml"] = try MiniYAML.parse(site, file: "lvx.yaml")
        let profiles = root.appendingPathComponent("profiles")
        for name in try FileManager.default.contentsOfDirectory(atPath: profiles.path).sorted() {
            let text = try String(contentsOf: profiles.appendingPathComponent(name), encoding: .utf8)
            files["profiles/\(name)"] = try MiniYAML.parse(text, file: "profiles/\(name)")
        }
        let result = DesiredStateLoader.load(files: files, today: today)
        return Loaded(state: result.state, diagnostics: result.diagnostics)
    }

    @Test func seedsSiteValidatesClean() throws {
        let loaded = try loadSite("desired-state")
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        #expect(state.units.map(\.name) == ["lvx6048-1", "lvx6048-2"])
        #expect(state.stacks.map(\.members) == [["lvx6048-1", "lvx6048-2"]])
        #expect(state.profiles["eg4-lp4-v2"]?.settings.count == 12)
        #expect(state.tolerances[.floatVoltage] == Tolerance(hundredths: 10))
    }

    @Test func cabinExampleValidatesCleanUntilItsAcceptExpires() throws {
        let loaded = try loadSite("examples/cabin")
        #expect(loaded.descriptions == [])
        let state = try #require(loaded.state)
        let house = try #require(state.unit(named: "house"))
        #expect(house.serial.digits == "96100000000202")
        #expect(state.tolerance(for: .bulkVoltage, on: house) == Tolerance(hundredths: 20))
        #expect(
            state.acceptedDrift(for: .maxChargingCurrent, on: house, at: Fixture.today)?.value == SettingValue(raw: 100)
        )
        #expect(state.applyPolicy.planLifetimeSeconds == 12 * 3_600)

        let later = try loadSite("examples/cabin", today: Fixture.date("2027-01-01"))
        #expect(later.codes == ["expired-accept"])
        #expect(later.state != nil)
    }

    @Test func annotatedProfileValidatesClean() throws {
        let root = PackagePaths.root().appendingPathComponent("examples/profiles/annotated.yaml")
        let text = try String(contentsOf: root, encoding: .utf8)
        let loaded = try load(Fixture.twoUnits(profile: "annotated"), profiles: ["annotated": text])
        #expect(loaded.descriptions == [])
        #expect(loaded.state?.profiles["annotated"]?.settings.count == 12)
    }
}

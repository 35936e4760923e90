import LVXCore
import LVXYAML

/// The seed site: the two commissioned LVX6048 units in parallel on one EG4 LP4 v2 bank.
enum Fixture {
    /// The day tests validate on unless they say otherwise.
    static let today = date("2026-06-01")

    /// The profile from the commissioning notes: USER mode, bulk 56.4 V / float 54.0 V,
    /// cut-off 48.0 V equal to stop-discharge (the loosened rule), stop-charge 54.0 V, 60 A.
    static let seedProfile = """
        # EG4 LP4 v2 bank, conservative off-grid LFP policy
        battery_type: USER
        cutoff_voltage: 48.0
        stop_discharge_voltage: 48.0
        stop_charge_voltage: 54.0
        bulk_voltage: 56.4
        float_voltage: 54.0
        max_utility_charging_current: 30
        max_charging_current: 60
        output_source_priority: solar_battery_utility
        charger_priority: solar_first
        solar_power_priority: load_battery_utility
        grid_tie: disabled
        """

    /// The seed site's `lvx.yaml`, without planned drift.
    static let seedSite = """
        site: home
        units:                                   # keyed by serial number
          "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2, parallel_index: 0}
          "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2, port: "hidraw:/dev/hidraw1", parallel_index: 1}
        stacks:
          main: [lvx6048-1, lvx6048-2]
        tolerances:                              # absolute, in the key's unit
          float_voltage: 0.1
        apply:
          stop_units: [powermon.service, powermon2.service]
          approvers: [alice]
          plan_lifetime: 24h
          auto_apply_approved: false
        """

    /// The example `lvx.yaml` from the format description, accept entry included.
    static let formatExample = """
        site: home
        units:                                   # keyed by serial number
          "96142109100037": {name: lvx6048-1, profile: eg4-lp4-v2}
          "96142408100255": {name: lvx6048-2, profile: eg4-lp4-v2, port: "hidraw:/dev/hidraw1"}
        stacks:
          main: [lvx6048-1, lvx6048-2]
        tolerances:                              # absolute, in the key's unit
          float_voltage: 0.1
        accept:                                  # planned drift
          - {unit: lvx6048-1, key: max_charging_current, value: 100, reason: "set on the LCD, program 02", until: 2026-12-31}
        apply:
          stop_units: [powermon.service, powermon2.service]
          approvers: [alice]
          plan_lifetime: 24h
          auto_apply_approved: false
        """

    /// A minimal valid site: two units on `profile`, no stack.
    static func twoUnits(profile: String = "eg4-lp4-v2", extra: String = "") -> String {
        """
        units:
          "96142109100037": {name: lvx6048-1, profile: \(profile)}
          "96142408100255": {name: lvx6048-2, profile: \(profile)}
        \(extra)
        """
    }

    static func date(_ text: String) -> CivilDate {
        guard let date = CivilDate(parsing: text) else { fatalError("bad fixture date \(text)") }
        return date
    }
}

/// The result of loading a site in a test.
struct Loaded {
    var state: DesiredState?
    var diagnostics: [Diagnostic]

    /// Each diagnostic as `file:line:column: severity: message`.
    var descriptions: [String] { diagnostics.map(\.description) }
    var hints: [String?] { diagnostics.map(\.hint) }
    var codes: [String?] { diagnostics.map(\.code) }
}

/// Parses `text` with the real libyaml parser, as `lvx` reads a file.
func parseYAML(_ text: String, file: String) throws -> Node {
    try YAMLParser.parse(Array(text.utf8), file: file)
}

/// The name the repository-example tests still call; it is ``parseYAML(_:file:)``, the real libyaml
/// parser (the imitation it once named is gone).
enum MiniYAML {
    static func parse(_ text: String, file: String) throws -> Node { try parseYAML(text, file: file) }
}

/// Parses like ``parseYAML(_:file:)``, but lets a repeated mapping key through to the tree, so the
/// loader's own duplicate-key and duplicate-serial checks can be tested.
///
/// libyaml itself accepts a repeated key; `YAMLParser` refuses it (`duplicateKey`). Each refused key
/// is made unique by inserting a marker into the text, the text is parsed again, and the marker is
/// removed from the tree, with the columns after it on its line moved back. Every other node is
/// exactly what `YAMLParser` gives.
func parseYAMLKeepingDuplicateKeys(_ text: String, file: String) throws -> Node {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
    var inserted: [Insertion] = []
    while true {
        let source = Array(lines.map { String($0) }.joined(separator: "\n").utf8)
        let error: YAMLError
        do {
            return Insertion.unmark(try YAMLParser.parse(source, file: file), inserted)
        } catch let caught {
            error = caught
        }
        guard error.kind == .duplicateKey, inserted.count < lines.count else { throw error }
        let line = error.location.line
        var column = error.location.column
        let first = lines[line - 1][column - 1]
        if first == "\"" || first == "'" { column += 1 }
        lines[line - 1].insert(contentsOf: Insertion.marker, at: column - 1)
        inserted.append(Insertion(line: line, column: column))
    }
}

/// Where ``parseYAMLKeepingDuplicateKeys(_:file:)`` inserted its marker.
private struct Insertion {
    static let marker = Array("lvxtestduplicate")

    var line: Int
    var column: Int

    /// `node` with the markers removed from keys and the columns after them moved back.
    static func unmark(_ node: Node, _ inserted: [Insertion]) -> Node {
        switch node {
        case .scalar(let text, let quoted, let location):
            let isMarked = inserted.contains { $0.line == location.line } && text.hasPrefix(String(marker))
            let unmarked = isMarked ? String(text.dropFirst(marker.count)) : text
            return .scalar(unmarked, quoted: quoted, moved(location, inserted))
        case .sequence(let items, let location):
            return .sequence(items.map { unmark($0, inserted) }, moved(location, inserted))
        case .mapping(let pairs, let location):
            return .mapping(
                pairs.map { (unmark($0.key, inserted), unmark($0.value, inserted)) },
                moved(location, inserted)
            )
        }
    }

    private static func moved(_ location: SourceLocation, _ inserted: [Insertion]) -> SourceLocation {
        let before = inserted.filter { $0.line == location.line && $0.column < location.column }.count
        var out = location
        out.column -= before * marker.count
        return out
    }
}

/// Parses the given texts with libyaml (``YAMLParser``) and loads them.
///
/// Repeated keys reach the loader (``parseYAMLKeepingDuplicateKeys(_:file:)``), which reports them.
///
/// - Parameters:
///   - site: the text of `lvx.yaml`, or `nil` to leave the file out.
///   - profiles: profile texts by name, stored at `profiles/NAME.yaml` (a name with a `/` is a path).
///   - today: the date accept entries are compared with.
/// - Returns: the state and every diagnostic.
/// - Throws: ``YAMLError`` when a test's text is not YAML that lvx accepts (other than a repeated key).
func load(
    _ site: String?,
    profiles: [String: String] = ["eg4-lp4-v2": Fixture.seedProfile],
    today: CivilDate = Fixture.today
) throws -> Loaded {
    var files: [String: Node] = [:]
    if let site { files["lvx.yaml"] = try parseYAMLKeepingDuplicateKeys(site, file: "lvx.yaml") }
    for (name, text) in profiles {
        let path = name.contains("/") ? name : "profiles/\(name).yaml"
        files[path] = try parseYAMLKeepingDuplicateKeys(text, file: path)
    }
    let result = DesiredStateLoader.load(files: files, today: today)
    return Loaded(state: result.state, diagnostics: result.diagnostics)
}

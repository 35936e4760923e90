/// Builds a ``DesiredState`` from the repository's document trees, checking everything at once.
///
/// The loader is pure: it reads ``Node``s the YAML adapter produced and never touches files. It
/// reports every problem it finds, each at the offending node's location, rather than stopping at
/// the first one.
public enum DesiredStateLoader {
    /// Whether `name` can name a fleet site (its branch is `sites/NAME`): ASCII letters, digits,
    /// `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.
    public static func isSiteName(_ name: String) -> Bool {
        TextFormats.isSimpleName(name) && !name.hasSuffix(".lock")
    }

    /// The site file's path: `lvx.yaml` at the repository root.
    public static let siteFile = "lvx.yaml"
    /// The folder that holds `NAME.yaml` profiles.
    public static let profilesDirectory = "profiles"

    /// Validates the site and its profiles and, when there are no errors, returns the state.
    ///
    /// - Parameters:
    ///   - files: document trees by repository path: `lvx.yaml` and `profiles/NAME.yaml`; other
    ///     paths are ignored (a `profiles/*.yml` file gets a warning). A file whose document is empty
    ///     should be given as a null scalar.
    ///   - today: the date `accept` entries' `until` is compared with; an entry ending before it is
    ///     expired (a warning) and no longer covers anything.
    /// - Returns: the state, or `nil` when any diagnostic is an error; and every diagnostic (errors
    ///   and warnings), ordered by file, line and column.
    public static func load(
        files: [String: Node],
        today: CivilDate
    ) -> (state: DesiredState?, diagnostics: [Diagnostic]) {
        var decoder = SiteDecoder(today: today)
        for path in files.keys.sorted() {
            guard let root = files[path] else { continue }
            if let name = profileName(forPath: path) {
                decoder.profiles[name] = decoder.findings.decodeProfile(named: name, root: root)
            } else if path.hasPrefix(profilesDirectory + "/") {
                decoder.findings.warning(
                    .ignoredFile,
                    at: root.location,
                    "'\(path)' is not read as a profile",
                    hint: "profiles are the files profiles/NAME.yaml, directly inside 'profiles'"
                )
            }
        }
        guard let site = files[siteFile] else {
            decoder.findings.error(
                .missingFile,
                at: nil,
                "missing '\(siteFile)' at the repository root",
                hint: "add lvx.yaml with at least 'units'"
            )
            return (nil, decoder.findings.sorted)
        }
        decoder.decodeSite(site)
        decoder.checkAcceptCoverage()
        decoder.checkStacks()
        let state = decoder.findings.hasErrors ? nil : decoder.state()
        return (state, decoder.findings.sorted)
    }

    /// The profile name a repository path holds (`profiles/eg4-lp4-v2.yaml` -> `eg4-lp4-v2`), or `nil`.
    public static func profileName(forPath path: String) -> String? {
        let prefix = profilesDirectory + "/"
        let suffix = ".yaml"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix) else { return nil }
        let name = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return name
    }
}

/// A unit as read, with whatever parts could be read.
private struct UnitDraft {
    var serial: SerialNumber?
    var location: SourceLocation
    var name: String?
    var profileName: String?
    var port: String?
    var parallelIndex: (value: Int, location: SourceLocation)?
    var tolerances = Tolerances()
}

/// A stack as read.
private struct StackDraft {
    var name: String
    var members: [(name: String, location: SourceLocation)]
    var location: SourceLocation
}

/// The state of one load: drafts of everything read so far, and the findings.
private struct SiteDecoder {
    let today: CivilDate
    var findings = Findings()
    var profiles: [String: ProfileDraft] = [:]
    var site: String?
    var units: [UnitDraft] = []
    var stacks: [StackDraft] = []
    var tolerances = Tolerances()
    var accepts: [AcceptedDrift] = []
    var applyPolicy = ApplyPolicy()

    init(today: CivilDate) { self.today = today }

    static let siteKeys = ["site", "units", "stacks", "tolerances", "accept", "apply"]

    static let unitKeys = ["name", "profile", "port", "tolerances", "parallel_index"]
    static let acceptKeys = ["unit", "key", "value", "reason", "until"]
    static let applyKeys = [
        "stop_units", "approvers", "plan_lifetime", "auto_apply_approved", "require_distinct_approver",
    ]

    // MARK: lvx.yaml

    mutating func decodeSite(_ root: Node) {
        let label = "the top level of \(DesiredStateLoader.siteFile)"
        if root.isNull {
            findings.error(
                .missingKey,
                at: root.location,
                "missing required key 'units' in \(DesiredStateLoader.siteFile)",
                hint: "list the inverters by serial number under 'units'"
            )
            return
        }
        guard let fields = findings.fields(of: root, label: label, allowed: Self.siteKeys) else { return }
        if let node = fields.value("site") { site = findings.string(node, label: "'site'") }
        if let node = findings.requireValue(
            fields,
            "units",
            in: "in \(DesiredStateLoader.siteFile)",
            hint: "list the inverters by serial number under 'units'"
        ) {
            decodeUnits(node)
        }
        if let node = fields.value("stacks") { decodeStacks(node) }
        if let node = fields.value("tolerances") { tolerances = decodeTolerances(node, label: "'tolerances'") }
        if let node = fields.value("accept") { decodeAccepts(node) }
        if let node = fields.value("apply") { decodeApply(node) }
    }

    // MARK: units

    mutating func decodeUnits(_ node: Node) {
        guard let pairs = findings.pairs(of: node, label: "'units'") else { return }
        if pairs.isEmpty {
            findings.warning(.noUnits, at: node.location, "'units' is empty, so lvx has nothing to manage")
        }
        var serials: [SerialNumber: SourceLocation] = [:]
        var names: [String: SourceLocation] = [:]
        for pair in pairs {
            guard let text = findings.keyText(pair.key) else { continue }
            var draft = UnitDraft(location: pair.key.location)
            if let serial = SerialNumber(text) {
                if let first = serials[serial] {
                    let same = text == serial.digits ? "" : " (= \(serial))"
                    findings.error(
                        .duplicateSerial,
                        at: pair.key.location,
                        "duplicate serial '\(text)'\(same) (first at line \(first.line))",
                        hint: "list each inverter once"
                    )
                } else {
                    serials[serial] = pair.key.location
                    draft.serial = serial
                }
            } else {
                findings.error(
                    .malformedSerial,
                    at: pair.key.location,
                    "malformed serial '\(text)'",
                    hint: "use the serial as the inverter reports it: up to 20 digits, or the 22-digit ID reply"
                )
            }
            let unitLabel = "unit '\(draft.serial?.description ?? text)'"
            defer { units.append(draft) }
            guard let fields = findings.fields(of: pair.value, label: unitLabel, allowed: Self.unitKeys) else {
                continue
            }
            if let node = findings.requireValue(
                fields,
                "name",
                in: "for \(unitLabel)",
                hint: "add a name such as name: lvx6048-1"
            ), let name = findings.string(node, label: "'name'") {
                if !TextFormats.isSimpleName(name) {
                    findings.error(
                        .badName,
                        at: node.location,
                        "unit name '\(name)' must start with a letter or digit and hold only letters, digits, '.', '_' and '-'",
                        hint: "the name is used in file names and commands"
                    )
                } else if let first = names[name] {
                    findings.error(
                        .duplicateName,
                        at: node.location,
                        "duplicate unit name '\(name)' (first at line \(first.line))",
                        hint: "give each unit its own name"
                    )
                } else {
                    names[name] = node.location
                    draft.name = name
                }
            }
            if let node = findings.requireValue(
                fields,
                "profile",
                in: "for \(unitLabel)",
                hint: "add the name of a file in profiles/, such as profile: eg4-lp4-v2"
            ), let profile = findings.string(node, label: "'profile'") {
                if profiles[profile] == nil {
                    unknownProfile(profile, at: node.location)
                } else {
                    draft.profileName = profile
                }
            }
            if let node = fields.value("port"),
                let port = findings.string(node, label: "'port'", hint: "such as port: \"hidraw:/dev/hidraw1\"")
            {
                do throws(PortAddressError) {
                    _ = try PortAddress(parsing: port)
                    draft.port = port
                } catch {
                    findings.error(
                        .malformedPort,
                        at: node.location,
                        error.summary,
                        hint: "accepted forms: \(PortAddress.examples)"
                    )
                }
            }
            if let node = fields.value("parallel_index"), let index = parallelIndex(node) {
                draft.parallelIndex = (index, node.location)
            }
            if let node = fields.value("tolerances") {
                draft.tolerances = decodeTolerances(node, label: "'tolerances' of \(unitLabel)")
            }
        }
    }

    mutating func unknownProfile(_ name: String, at location: SourceLocation) {
        let available = profiles.keys.sorted()
        let suggestion = Suggestion.closest(to: name, among: available)
        let hint =
            available.isEmpty
            ? "there are no profiles; add profiles/\(name).yaml"
            : "available profiles: \(available.joined(separator: ", ")) (the files profiles/NAME.yaml)"
        findings.error(
            .unknownProfile,
            at: location,
            "unknown profile '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
            hint: hint
        )
    }

    mutating func parallelIndex(_ node: Node) -> Int? {
        guard let number = findings.number(node, label: "'parallel_index'") else { return nil }
        guard let index = number.scaled(decimals: 0), (0...9).contains(index) else {
            findings.error(
                .outOfRange,
                at: node.location,
                "'parallel_index' must be a whole number from 0 to 9, got \(node.scalarText ?? "")",
                hint: "0 is the master; the others count up from 1"
            )
            return nil
        }
        return index
    }

    // MARK: tolerances

    mutating func decodeTolerances(_ node: Node, label: String) -> Tolerances {
        var result = Tolerances()
        guard let pairs = findings.uniquePairs(of: node, label: label) else { return result }
        let tolerable = SettingKey.allCases.filter(Tolerance.isAllowed).map(\.rawValue)
        for pair in pairs {
            guard let key = SettingKey(rawValue: pair.name) else {
                findings.unknownKey(pair.name, at: pair.key.location, allowed: tolerable)
                continue
            }
            guard Tolerance.isAllowed(for: key) else {
                findings.error(
                    .toleranceNotAllowed,
                    at: pair.key.location,
                    "'\(key.rawValue)' cannot have a tolerance; only voltage and current keys can",
                    hint: "remove it: a choice always has to match exactly"
                )
                continue
            }
            let unit: String
            if case .current = key.kind { unit = "A" } else { unit = "V" }
            guard let number = findings.number(pair.value, label: "the tolerance of '\(key.rawValue)'") else {
                continue
            }
            if number.isNegative && !number.isZero {
                findings.error(
                    .negativeTolerance,
                    at: pair.value.location,
                    "the tolerance of '\(key.rawValue)' must not be negative, got \(pair.value.scalarText ?? "")",
                    hint: "use 0 for an exact match"
                )
                continue
            }
            guard let hundredths = number.scaled(decimals: 2) else {
                findings.error(
                    .badPrecision,
                    at: pair.value.location,
                    "the tolerance of '\(key.rawValue)' must be a multiple of 0.01 \(unit), got \(pair.value.scalarText ?? "")"
                )
                continue
            }
            result[key] = Tolerance(hundredths: hundredths)
        }
        return result
    }

    // MARK: stacks

    mutating func decodeStacks(_ node: Node) {
        guard let pairs = findings.uniquePairs(of: node, label: "'stacks'") else { return }
        let unitNames = units.compactMap(\.name)
        var stackOf: [String: String] = [:]
        for pair in pairs {
            if !TextFormats.isSimpleName(pair.name) {
                findings.error(
                    .badName,
                    at: pair.key.location,
                    "stack name '\(pair.name)' must start with a letter or digit and hold only letters, digits, '.', '_' and '-'"
                )
            }
            var draft = StackDraft(name: pair.name, members: [], location: pair.key.location)
            let label = "stack '\(pair.name)'"
            guard
                let items = findings.items(
                    of: pair.value,
                    label: label,
                    hint: "list the unit names, such as [lvx6048-1, lvx6048-2]"
                )
            else { continue }
            for item in items {
                guard let member = findings.string(item, label: "a member of \(label)") else { continue }
                if draft.members.contains(where: { $0.name == member }) {
                    findings.error(
                        .duplicateMember,
                        at: item.location,
                        "unit '\(member)' is listed twice in \(label)",
                        hint: "remove one of them"
                    )
                    continue
                }
                guard unitNames.contains(member) else {
                    unknownUnit(member, at: item.location, in: label, known: unitNames)
                    continue
                }
                if let other = stackOf[member] {
                    findings.error(
                        .unitInTwoStacks,
                        at: item.location,
                        "unit '\(member)' is already in stack '\(other)'",
                        hint: "a unit can be in one stack only"
                    )
                    continue
                }
                stackOf[member] = pair.name
                draft.members.append((member, item.location))
            }
            if items.count < 2 {
                findings.warning(
                    .smallStack,
                    at: pair.key.location,
                    "\(label) has \(items.count == 0 ? "no units" : "only one unit")",
                    hint: "a stack groups units in parallel; list at least two or remove it"
                )
            }
            stacks.append(draft)
        }
    }

    mutating func unknownUnit(_ name: String, at location: SourceLocation, in label: String, known: [String]) {
        let suggestion = Suggestion.closest(to: name, among: known)
        var hint = "units are named in 'units'" + (known.isEmpty ? "" : ": \(known.joined(separator: ", "))")
        if let serial = SerialNumber(name), let unit = units.first(where: { $0.serial == serial }),
            let unitName = unit.name
        {
            hint = "name the unit rather than its serial: '\(unitName)'"
        }
        findings.error(
            .unknownUnit,
            at: location,
            "unknown unit '\(name)' in \(label)" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
            hint: hint
        )
    }

    // MARK: accept

    mutating func decodeAccepts(_ node: Node) {
        let example = "- {unit: lvx6048-1, key: max_charging_current, value: 100, reason: \"set on the LCD\"}"
        guard
            let items = findings.items(of: node, label: "'accept'", hint: "write a list of entries, such as \(example)")
        else { return }
        let unitNames = units.compactMap(\.name)
        let label = "an accept entry"
        for item in items {
            guard let fields = findings.fields(of: item, label: label, allowed: Self.acceptKeys) else { continue }
            var unitName: String?
            if let node = findings.requireValue(
                fields,
                "unit",
                in: "in \(label)",
                hint: "name the unit, such as unit: lvx6048-1"
            ),
                let name = findings.string(node, label: "'unit'")
            {
                if unitNames.contains(name) {
                    unitName = name
                } else {
                    unknownUnit(name, at: node.location, in: label, known: unitNames)
                }
            }
            var key: SettingKey?
            if let node = findings.requireValue(
                fields,
                "key",
                in: "in \(label)",
                hint: "name the setting, such as key: max_charging_current"
            ), let name = findings.string(node, label: "'key'") {
                key = SettingKey(rawValue: name)
                if key == nil {
                    let allKeys = SettingKey.allCases.map(\.rawValue)
                    let suggestion = Suggestion.closest(to: name, among: allKeys)
                    findings.error(
                        .unknownSetting,
                        at: node.location,
                        "unknown setting '\(name)' in \(label)" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                        hint: "settings: \(allKeys.joined(separator: ", "))"
                    )
                }
            }
            let valueNode = findings.requireValue(
                fields,
                "value",
                in: "in \(label)",
                hint: "give the live value to accept, such as value: 100"
            )
            var value: SettingValue?
            if let valueNode, let key { value = findings.settingValue(valueNode, key: key, label: "'value'") }
            var reason: String?
            if let node = findings.requireValue(
                fields,
                "reason",
                in: "in \(label)",
                hint: "say why the drift is accepted, such as reason: \"set on the LCD, program 02\""
            ) {
                reason = findings.string(node, label: "'reason'", hint: "say why the drift is accepted")
            }
            var until: CivilDate?
            var untilValid = true
            if let node = fields.value("until") {
                until = date(node, label: "'until'")
                untilValid = until != nil
            }
            guard let unitName, let key, let value, let reason, untilValid else { continue }
            let drift = AcceptedDrift(
                unitName: unitName,
                key: key,
                value: value,
                reason: reason,
                until: until,
                location: item.location
            )
            if let first = accepts.first(where: { $0.unitName == unitName && $0.key == key }) {
                findings.error(
                    .duplicateAccept,
                    at: item.location,
                    "duplicate accept entry for unit '\(unitName)' and key '\(key.rawValue)' (first at line \(first.location.line))",
                    hint: "keep one entry per unit and key"
                )
                continue
            }
            if let until, !drift.applies(on: today), let untilNode = fields.value("until") {
                findings.warning(
                    .expiredAccept,
                    at: untilNode.location,
                    "accept entry for unit '\(unitName)' and key '\(key.rawValue)' expired on \(until) and no longer applies",
                    hint: "extend 'until' or remove the entry"
                )
            }
            accepts.append(drift)
        }
    }

    mutating func date(_ node: Node, label: String) -> CivilDate? {
        guard let text = findings.string(node, label: label) else { return nil }
        guard let date = CivilDate(parsing: text) else {
            findings.error(
                .badDate,
                at: node.location,
                "expected a date YYYY-MM-DD for \(label), got '\(text)'",
                hint: "such as 2026-12-31"
            )
            return nil
        }
        return date
    }

    // MARK: apply

    mutating func decodeApply(_ node: Node) {
        guard let fields = findings.fields(of: node, label: "'apply'", allowed: Self.applyKeys) else { return }
        if let node = fields.value("stop_units") {
            applyPolicy.stopUnits = stringList(
                node,
                label: "'stop_units'",
                example: "[powermon.service]"
            ) { findings, text, item in
                guard !TextFormats.isSystemdUnitName(text) else { return true }
                let suffixes = TextFormats.systemdUnitSuffixes.prefix(3).joined(separator: ", ")
                findings.error(
                    .badSystemdUnit,
                    at: item.location,
                    "'\(text)' is not a systemd unit name",
                    hint: TextFormats.hasSystemdSuffix(text)
                        ? "unit names hold only letters, digits and ':', '-', '_', '.', '\\', '@'"
                        : "write the full name with its type, such as '\(text).service' (\(suffixes), ...)"
                )
                return false
            }
        }
        if let node = fields.value("approvers") {
            applyPolicy.approvers = stringList(node, label: "'approvers'", example: "[alice]") { _, _, _ in true }
        }
        if let node = fields.value("plan_lifetime"), let text = findings.string(node, label: "'plan_lifetime'") {
            if let seconds = TextFormats.durationSeconds(text), seconds > 0 {
                applyPolicy.planLifetimeSeconds = seconds
            } else {
                let zero = TextFormats.durationSeconds(text) == 0
                findings.error(
                    .badDuration,
                    at: node.location,
                    zero
                        ? "'plan_lifetime' must be positive, got '\(text)'"
                        : "expected a duration like 24h, 90m or 2d for 'plan_lifetime', got '\(text)'",
                    hint: "units: d, h, m, s; the default is 24h"
                )
            }
        }
        if let node = fields.value("auto_apply_approved"),
            let value = findings.bool(node, label: "'auto_apply_approved'")
        {
            applyPolicy.autoApplyApproved = value
        }
        if let node = fields.value("require_distinct_approver"),
            let value = findings.bool(node, label: "'require_distinct_approver'")
        {
            applyPolicy.requireDistinctApprover = value
        }
    }

    /// A list of strings, each checked by `isValid`; repeated entries are warned about and dropped.
    mutating func stringList(
        _ node: Node,
        label: String,
        example: String,
        isValid: (inout Findings, String, Node) -> Bool
    ) -> [String] {
        guard let items = findings.items(of: node, label: label, hint: "write a list, such as \(example)") else {
            return []
        }
        var result: [String] = []
        for item in items {
            guard let text = findings.string(item, label: "an entry of \(label)"), isValid(&findings, text, item) else {
                continue
            }
            if result.contains(text) {
                findings.warning(.duplicateEntry, at: item.location, "'\(text)' is listed twice in \(label)")
                continue
            }
            result.append(text)
        }
        return result
    }

    // MARK: checks across files

    /// A profile value no PI18 setter can write is fine only when every unit using the profile has
    /// an `accept` entry, applying today, for exactly that value.
    mutating func checkAcceptCoverage() {
        for name in profiles.keys.sorted() {
            guard let draft = profiles[name] else { continue }
            let users = units.filter { $0.profileName == name }.compactMap(\.name)
            for (key, problem) in draft.unsettable {
                guard let value = draft.profile.settings[key] else { continue }
                let uncovered = users.filter { unit in
                    !accepts.contains {
                        $0.unitName == unit && $0.key == key && $0.value == value && $0.applies(on: today)
                    }
                }
                guard users.isEmpty || !uncovered.isEmpty else { continue }
                let written = key.format(value)
                let hint =
                    users.isEmpty
                    ? "no unit uses this profile, so no 'accept' entry can cover it; choose a value PI18 can write"
                    : "PI18 cannot write it: set it on the inverter's LCD and add an 'accept' entry with value \(written) for \(uncovered.map { "'\($0)'" }.joined(separator: ", ")), or choose a value PI18 can write"
                findings.error(
                    .notSettable,
                    at: draft.profile.locations[key],
                    Findings.quotingKey(problem, key),
                    hint: hint
                )
            }
        }
    }

    /// Stack members must have distinct parallel indexes and, after accepted drift, identical settings.
    mutating func checkStacks() {
        for stack in stacks {
            let members = stack.members.compactMap { member in units.first { $0.name == member.name } }
            checkParallelIndexes(stack, members)
            guard members.count == stack.members.count, members.count >= 2 else { continue }
            let drafts = members.compactMap { $0.profileName.flatMap { profiles[$0] } }
            guard drafts.count == members.count else { continue }
            let unknown = drafts.reduce(into: Set<SettingKey>()) { $0.formUnion($1.unreadableKeys) }
            let settings = zip(members, drafts).map { unit, draft in effectiveSettings(unit, draft) }
            var differences: [String] = []
            for key in SettingKey.allCases where !unknown.contains(key) {
                let values = settings.map { $0[key] }
                guard Set(values).count > 1 else { continue }
                let listed = zip(members, values).map { unit, value in
                    "\(unit.name ?? ""): \(value.map(key.format) ?? "not set")"
                }
                differences.append("'\(key.rawValue)' differs (\(listed.joined(separator: ", ")))")
            }
            guard !differences.isEmpty else { continue }
            findings.error(
                .stackMismatch,
                at: stack.location,
                "units in stack '\(stack.name)' must hold identical settings, but \(differences.joined(separator: "; "))",
                hint: "give the units the same profile, or make their 'accept' entries agree"
            )
        }
    }

    private mutating func checkParallelIndexes(_ stack: StackDraft, _ members: [UnitDraft]) {
        let indexed = members.compactMap { unit in unit.parallelIndex.map { (unit, $0) } }
            .sorted { $0.1.location < $1.1.location }
        var seen: [Int: String] = [:]
        for (unit, index) in indexed {
            let name = unit.name ?? ""
            if let first = seen[index.value] {
                findings.error(
                    .duplicateParallelIndex,
                    at: index.location,
                    "parallel_index \(index.value) of unit '\(name)' is already used by '\(first)' in stack '\(stack.name)'",
                    hint: "give each unit in a stack its own index; 0 is the master"
                )
            } else {
                seen[index.value] = name
            }
        }
    }

    private func effectiveSettings(_ unit: UnitDraft, _ draft: ProfileDraft) -> Settings {
        var settings = draft.profile.settings
        for drift in accepts where drift.unitName == unit.name && drift.applies(on: today) {
            settings[drift.key] = drift.value
        }
        return settings
    }

    // MARK: result

    /// The state, built from drafts that are complete (call only when there are no errors).
    func state() -> DesiredState {
        let desiredUnits = units.compactMap { draft -> DesiredUnit? in
            guard let serial = draft.serial, let name = draft.name, let profileName = draft.profileName else {
                return nil
            }
            return DesiredUnit(
                serial: serial,
                name: name,
                profileName: profileName,
                port: draft.port,
                parallelIndex: draft.parallelIndex?.value,
                tolerances: draft.tolerances,
                location: draft.location
            )
        }
        return DesiredState(
            site: site,
            units: desiredUnits,
            profiles: profiles.mapValues(\.profile),
            stacks: stacks.map { Stack(name: $0.name, members: $0.members.map(\.name), location: $0.location) },
            tolerances: tolerances,
            accepts: accepts,
            applyPolicy: applyPolicy
        )
    }
}

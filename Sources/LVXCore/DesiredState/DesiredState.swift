/// The validated content of a desired-state repository: `lvx.yaml` plus `profiles/NAME.yaml`.
///
/// Only ``DesiredStateLoader`` builds one from files, and only when the files have no errors, so
/// every name in it resolves: each unit's profile exists, each stack member is a unit, each
/// accepted drift names a unit.
public struct DesiredState: Sendable, Hashable {
    /// The site's name (`site:`), if given.
    public var site: String?
    /// The units, in file order.
    public var units: [DesiredUnit]
    /// The profiles by name (the file name without `profiles/` and `.yaml`).
    public var profiles: [String: Profile]
    /// Groups of units in parallel that must hold identical settings, in file order.
    public var stacks: [Stack]
    /// Site-wide tolerances; a unit's own tolerances take precedence.
    public var tolerances: Tolerances
    /// Every `accept:` entry, expired ones included; use ``AcceptedDrift/applies(on:)`` to filter.
    public var accepts: [AcceptedDrift]
    /// How plans are approved and applied.
    public var applyPolicy: ApplyPolicy

    public init(
        site: String? = nil,
        units: [DesiredUnit],
        profiles: [String: Profile],
        stacks: [Stack] = [],
        tolerances: Tolerances = Tolerances(),
        accepts: [AcceptedDrift] = [],
        applyPolicy: ApplyPolicy = ApplyPolicy()
    ) {
        self.site = site
        self.units = units
        self.profiles = profiles
        self.stacks = stacks
        self.tolerances = tolerances
        self.accepts = accepts
        self.applyPolicy = applyPolicy
    }

    /// The unit called `name`.
    public func unit(named name: String) -> DesiredUnit? { units.first { $0.name == name } }

    /// The unit with serial number `serial` (short and raw forms are the same serial).
    public func unit(serial: SerialNumber) -> DesiredUnit? { units.first { $0.serial == serial } }

    /// The profile `unit` uses.
    public func profile(for unit: DesiredUnit) -> Profile? { profiles[unit.profileName] }

    /// The stack `unit` belongs to, if any.
    public func stack(containing unit: DesiredUnit) -> Stack? { stacks.first { $0.members.contains(unit.name) } }

    /// How far `key` may drift on `unit`: the unit's tolerance, else the site's, else the standard one.
    public func tolerance(for key: SettingKey, on unit: DesiredUnit) -> Tolerance {
        unit.tolerances[key] ?? tolerances[key] ?? Tolerance.standard(for: key)
    }

    /// The accepted drift for `key` on `unit` that applies on `date`, if any.
    public func acceptedDrift(for key: SettingKey, on unit: DesiredUnit, at date: CivilDate) -> AcceptedDrift? {
        accepts.first { $0.unitName == unit.name && $0.key == key && $0.applies(on: date) }
    }

    /// The settings `unit` is meant to hold on `date`: its profile, with accepted drift in place
    /// of the profile's values.
    ///
    /// This is what stack members are compared on. It is not what a plan writes: a plan writes
    /// profile values and leaves a key alone while its live value is the accepted one.
    public func effectiveSettings(for unit: DesiredUnit, at date: CivilDate) -> Settings {
        var settings = profile(for: unit)?.settings ?? Settings()
        for drift in accepts where drift.unitName == unit.name && drift.applies(on: date) {
            settings[drift.key] = drift.value
        }
        return settings
    }
}

/// One inverter in `units:`, keyed by its serial number.
public struct DesiredUnit: Sendable, Hashable {
    /// The serial number, in short form whichever form the file used.
    public var serial: SerialNumber
    /// The unit's name (`name:`), unique in the site; used in messages, dumps and accept entries.
    public var name: String
    /// The profile's name (`profile:`).
    public var profileName: String
    /// Where to reach the unit (`port:`), such as `hidraw:/dev/hidraw1`; `nil` means discover it by serial.
    public var port: String?
    /// The unit's index in its parallel stack (`parallel_index:`, 0-9), for the per-unit setters.
    public var parallelIndex: Int?
    /// The unit's own tolerances, which take precedence over the site's.
    public var tolerances: Tolerances
    /// Where the unit's entry (its serial) is written.
    public var location: SourceLocation

    public init(
        serial: SerialNumber,
        name: String,
        profileName: String,
        port: String? = nil,
        parallelIndex: Int? = nil,
        tolerances: Tolerances = Tolerances(),
        location: SourceLocation
    ) {
        self.serial = serial
        self.name = name
        self.profileName = profileName
        self.port = port
        self.parallelIndex = parallelIndex
        self.tolerances = tolerances
        self.location = location
    }
}

/// A named group of units in parallel (`stacks: {main: [a, b]}`) that must hold identical settings.
public struct Stack: Sendable, Hashable {
    public var name: String
    /// The member units' names, in file order.
    public var members: [String]
    /// Where the stack's name is written.
    public var location: SourceLocation

    public init(name: String, members: [String], location: SourceLocation) {
        self.name = name
        self.members = members
        self.location = location
    }
}

/// Planned drift: a live value that is accepted for one unit's key although the profile says otherwise.
///
/// The typical case is a value set on the LCD that no PI18 setter can write, such as a maximum
/// charging current of 100 A.
public struct AcceptedDrift: Sendable, Hashable {
    /// The unit's name.
    public var unitName: String
    public var key: SettingKey
    /// The accepted live value.
    public var value: SettingValue
    /// Why the drift is accepted (required, shown with the plan).
    public var reason: String
    /// The last day the entry applies; `nil` for no end.
    public var until: CivilDate?
    /// Where the entry is written.
    public var location: SourceLocation

    public init(
        unitName: String,
        key: SettingKey,
        value: SettingValue,
        reason: String,
        until: CivilDate? = nil,
        location: SourceLocation
    ) {
        self.unitName = unitName
        self.key = key
        self.value = value
        self.reason = reason
        self.until = until
        self.location = location
    }

    /// Whether the entry applies on `date`: it has no end, or `date` is not after `until`.
    public func applies(on date: CivilDate) -> Bool { until.map { date <= $0 } ?? true }
}

/// How plans are approved and applied (`apply:` in `lvx.yaml`).
public struct ApplyPolicy: Sendable, Hashable {
    /// systemd units that share the inverters' ports; stopped before writing and restarted after.
    public var stopUnits: [String]
    /// Who may approve a plan; empty means anyone.
    public var approvers: [String]
    /// How long a plan stays approvable and applicable after it was made, in seconds (default 24 h).
    public var planLifetimeSeconds: Int64
    /// Whether `lvx run` applies an approved plan by itself; `false` leaves applying to `lvx apply`.
    public var autoApplyApproved: Bool
    /// Four eyes: the approver may not be the author, committer or signer of a change to `lvx.yaml`
    /// or `profiles/` since the units' last applied plan.
    public var requireDistinctApprover: Bool

    /// The default plan lifetime: 24 hours.
    public static let defaultPlanLifetimeSeconds: Int64 = 86_400

    public init(
        stopUnits: [String] = [],
        approvers: [String] = [],
        planLifetimeSeconds: Int64 = ApplyPolicy.defaultPlanLifetimeSeconds,
        autoApplyApproved: Bool = false,
        requireDistinctApprover: Bool = false
    ) {
        self.stopUnits = stopUnits
        self.approvers = approvers
        self.planLifetimeSeconds = planLifetimeSeconds
        self.autoApplyApproved = autoApplyApproved
        self.requireDistinctApprover = requireDistinctApprover
    }

    /// Whether `name` may approve plans.
    public func permitsApprover(_ name: String) -> Bool { approvers.isEmpty || approvers.contains(name) }
}

/// A settings profile: `profiles/NAME.yaml`, any subset of the twelve keys.
public struct Profile: Sendable, Hashable {
    /// The file name without `profiles/` and `.yaml`.
    public var name: String
    public var settings: Settings
    /// Where each key's value is written, for messages.
    public var locations: [SettingKey: SourceLocation]

    public init(name: String, settings: Settings, locations: [SettingKey: SourceLocation] = [:]) {
        self.name = name
        self.settings = settings
        self.locations = locations
    }
}

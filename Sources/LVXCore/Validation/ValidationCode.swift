/// The stable short codes of desired-state diagnostics, carried in ``Diagnostic/code``.
///
/// Codes never change meaning once released; messages may be reworded.
public enum ValidationCode: String, Sendable, CaseIterable {
    /// `lvx.yaml` is not among the files.
    case missingFile = "missing-file"
    /// A file under `profiles/` is not read (wrong extension or nested folder).
    case ignoredFile = "ignored-file"
    /// A value has the wrong type: a list where a mapping belongs, text where a number belongs.
    case wrongType = "wrong-type"
    /// A key that is not allowed where it is written.
    case unknownKey = "unknown-key"
    /// The same key twice in one mapping.
    case duplicateKey = "duplicate-key"
    /// A required key is absent.
    case missingKey = "missing-key"
    /// A required value is empty.
    case emptyValue = "empty-value"
    /// A voltage with more than one decimal, a fractional current, a tolerance finer than 0.01.
    case badPrecision = "bad-precision"
    /// A name that is not one of a setting's choices.
    case unknownChoice = "unknown-choice"
    /// A value outside what its key's PI18 setter can write (range, step), and not covered by `accept`.
    case notSettable = "not-settable"
    /// A number outside its allowed range (other than a setting value).
    case outOfRange = "out-of-range"
    /// A cross-key rule is broken (cut-off above stop-discharge, float above bulk, ...).
    case ruleViolated = "rule-violated"
    /// Voltages in a profile whose battery type is not `USER`.
    case voltageNeedsUserBatteryType = "voltage-needs-user-battery-type"
    /// Voltages in a profile without a battery type (a warning).
    case voltageDependsOnBatteryType = "voltage-depends-on-battery-type"
    /// A serial number that is neither the short nor the raw `ID` form.
    case malformedSerial = "malformed-serial"
    /// A unit's `port:` that is not a port string ``PortAddress`` accepts.
    case malformedPort = "malformed-port"
    /// The same serial twice (short and raw forms count as the same).
    case duplicateSerial = "duplicate-serial"
    /// The same unit name twice.
    case duplicateName = "duplicate-name"
    /// A unit or stack name with characters that cannot be used.
    case badName = "bad-name"
    /// A unit names a profile with no `profiles/NAME.yaml`.
    case unknownProfile = "unknown-profile"
    /// A stack member or accept entry names a unit that does not exist.
    case unknownUnit = "unknown-unit"
    /// An accept entry or tolerance names a key that is not a setting.
    case unknownSetting = "unknown-setting"
    /// A stack lists the same unit twice.
    case duplicateMember = "duplicate-member"
    /// A unit is in more than one stack.
    case unitInTwoStacks = "unit-in-two-stacks"
    /// A stack with fewer than two units (a warning).
    case smallStack = "small-stack"
    /// Units in one stack would hold different settings.
    case stackMismatch = "stack-mismatch"
    /// Two units in one stack have the same `parallel_index`.
    case duplicateParallelIndex = "duplicate-parallel-index"
    /// A tolerance on a key that cannot have one.
    case toleranceNotAllowed = "tolerance-not-allowed"
    /// A negative tolerance.
    case negativeTolerance = "negative-tolerance"
    /// Two accept entries for the same unit and key.
    case duplicateAccept = "duplicate-accept"
    /// An accept entry whose `until` date has passed (a warning).
    case expiredAccept = "expired-accept"
    /// A date that is not `YYYY-MM-DD` or does not exist.
    case badDate = "bad-date"
    /// A duration that is not like `24h`, `90m` or `2d`, or is not positive.
    case badDuration = "bad-duration"
    /// A `stop_units` entry that is not a systemd unit name.
    case badSystemdUnit = "bad-systemd-unit"
    /// A list entry given twice where it means nothing (a warning).
    case duplicateEntry = "duplicate-entry"
    /// `units` is empty (a warning).
    case noUnits = "no-units"
}

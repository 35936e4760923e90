/// The cross-key rules the seed's `_validate` checks, with the field notes' loosened cut-off rule.
public enum SettingRules {
    /// One broken rule, naming the keys involved so a caller can point at them.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public var keys: [SettingKey]
        public var message: String
        public var description: String { message }
    }

    /// Every range, step, choice and cross-key problem in `settings`.
    ///
    /// Ranges come from ``SettingKey/kind``. Cross-key rules: `cutoff_voltage <= stop_discharge_voltage`,
    /// `float_voltage <= bulk_voltage`, and a non-zero `stop_charge_voltage` not above `float_voltage`
    /// (the firmware refuses it).
    public static func violations(in settings: Settings) -> [Violation] {
        var found: [Violation] = []
        for (key, value) in settings.entries {
            if let problem = key.settableProblem(value) { found.append(Violation(keys: [key], message: problem)) }
        }
        if let cutoff = settings[.cutoffVoltage], let stop = settings[.stopDischargeVoltage], cutoff > stop {
            found.append(
                Violation(
                    keys: [.cutoffVoltage, .stopDischargeVoltage],
                    message:
                        "cutoff_voltage (\(fmt(.cutoffVoltage, cutoff))) must be <= stop_discharge_voltage (\(fmt(.stopDischargeVoltage, stop)))"
                )
            )
        }
        if let float = settings[.floatVoltage], let bulk = settings[.bulkVoltage], float > bulk {
            found.append(
                Violation(
                    keys: [.floatVoltage, .bulkVoltage],
                    message:
                        "float_voltage (\(fmt(.floatVoltage, float))) must be <= bulk_voltage (\(fmt(.bulkVoltage, bulk)))"
                )
            )
        }
        if let stopCharge = settings[.stopChargeVoltage], stopCharge.raw != 0, let float = settings[.floatVoltage],
            stopCharge > float
        {
            found.append(
                Violation(
                    keys: [.stopChargeVoltage, .floatVoltage],
                    message:
                        "stop_charge_voltage (\(fmt(.stopChargeVoltage, stopCharge))) must not be above float_voltage (\(fmt(.floatVoltage, float)))"
                )
            )
        }
        return found
    }

    private static func fmt(_ key: SettingKey, _ value: SettingValue) -> String { key.format(value) }
}

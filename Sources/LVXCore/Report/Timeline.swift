/// A stretch of time `[start, end)` with a value.
public struct Span<Value: Sendable & Hashable>: Sendable, Hashable {
    public var start: WallTime
    public var end: WallTime
    public var value: Value

    public init(start: WallTime, end: WallTime, value: Value) {
        self.start = start
        self.end = end
        self.value = value
    }
}

/// Something that happened to a unit's settings at one time: a plan, its approval, its outcome.
public struct TimelineMarker: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case plan, approval, applied, failed, refused, withdrawn, interrupted
    }

    public var time: WallTime
    public var kind: Kind
    public var planID: String
    /// One line for the tooltip: who approved, why it failed...
    public var text: String

    public init(time: WallTime, kind: Kind, planID: String, text: String) {
        self.time = time
        self.kind = kind
        self.planID = planID
        self.text = text
    }
}

/// One setting of one unit over time: its live value, its desired value and tolerance, and when
/// the live value was beyond the tolerance.
public struct KeyTimeline: Sendable, Hashable {
    public var key: SettingKey
    /// The live value; `nil` where it is not known (unit unreachable, or a dump without settings).
    public var live: [Span<SettingValue?>]
    /// The desired value and its tolerance; `nil` where the profile does not manage the key.
    public var desired: [Span<DesiredValue?>]
    /// The spans in which the live value was beyond the tolerance of the desired one.
    public var drift: [Span<Bool>]

    /// A desired value with the tolerance it is checked with.
    public struct DesiredValue: Sendable, Hashable {
        public var value: SettingValue
        public var tolerance: Tolerance

        public init(value: SettingValue, tolerance: Tolerance) {
            self.value = value
            self.tolerance = tolerance
        }
    }
}

/// A unit's settings timeline, as `lvx report` draws it.
public struct UnitTimeline: Sendable, Hashable {
    public var name: String
    public var serial: String
    public var start: WallTime
    public var end: WallTime
    public var keys: [KeyTimeline]
    /// When the unit did not answer, with the error.
    public var unreachable: [Span<String>]
    /// When the unit reported a fault (its code and name).
    public var faults: [Span<String>]
    public var markers: [TimelineMarker]
    /// How many dumps the timeline was built from.
    public var dumps: Int

    /// The time covered, seconds.
    public var duration: Int64 { max(1, end.secondsSince1970 - start.secondsSince1970) }

    /// The total time the unit drifted on any key, seconds.
    public var driftSeconds: Int64 {
        keys.reduce(0) { sum, key in
            sum + key.drift.reduce(0) { $0 + ($1.end.secondsSince1970 - $1.start.secondsSince1970) }
        }
    }
}

/// Builds a unit's timeline from the points where its dump changed and the desired state's versions.
public enum TimelineBuilder {
    /// A dump from history: when it was taken and what it held.
    public struct Point: Sendable {
        public var time: WallTime
        public var dump: UnitDump

        public init(time: WallTime, dump: UnitDump) {
            self.time = time
            self.dump = dump
        }
    }

    /// A version of the desired state and the time it took effect (its commit time).
    public struct Desired: Sendable {
        public var time: WallTime
        public var state: DesiredState

        public init(time: WallTime, state: DesiredState) {
            self.time = time
            self.state = state
        }
    }

    /// The timeline of unit `name` from `points` (oldest first: each dump that differs from the one
    /// before, and the first), up to `end`; `desired` oldest first.
    public static func build(
        name: String,
        serial: String,
        points: [Point],
        end: WallTime,
        desired: [Desired],
        markers: [TimelineMarker]
    ) -> UnitTimeline {
        let start = points.first?.time ?? end
        let pointEnds = points.indices.map { i in i + 1 < points.count ? points[i + 1].time : end }
        var unreachable: [Span<String>] = []
        var faults: [Span<String>] = []
        for (i, point) in points.enumerated() {
            let span = (point.time, pointEnds[i])
            if !point.dump.reachable {
                unreachable.append(Span(start: span.0, end: span.1, value: point.dump.error ?? "unreachable"))
            } else if let fault = point.dump.fault, fault.code != "00" {
                faults.append(Span(start: span.0, end: span.1, value: "\(fault.code) \(fault.name)"))
            }
        }
        var keys: [KeyTimeline] = []
        for key in SettingKey.allCases {
            let live = merge(
                points.enumerated().map { i, p in
                    Span(start: p.time, end: pointEnds[i], value: p.dump.reachable ? p.dump.settings?[key] : nil)
                }
            )
            let wanted = merge(
                desired.enumerated().compactMap { i, d -> Span<KeyTimeline.DesiredValue?>? in
                    // No run reads a unit before there is a desired state, so the first version
                    // known holds from the start (its commit may carry a later date).
                    let from = i == 0 ? start : max(d.time, start)
                    let to = i + 1 < desired.count ? min(desired[i + 1].time, end) : end
                    // A timeline of one dump has no length; its desired value is still shown.
                    guard from < to || (from == to && i == desired.count - 1) else { return nil }
                    return Span(start: from, end: to, value: desiredValue(of: key, unit: name, in: d.state))
                }
            )
            keys.append(
                KeyTimeline(key: key, live: live, desired: wanted, drift: drift(key, live: live, desired: wanted))
            )
        }
        return UnitTimeline(
            name: name,
            serial: serial,
            start: start,
            end: end,
            keys: keys,
            unreachable: merge(unreachable),
            faults: merge(faults),
            markers: markers.filter { $0.time >= start && $0.time <= end }.sorted { $0.time < $1.time },
            dumps: points.count
        )
    }

    /// The value `unit` should hold for `key` in `state`, with its tolerance.
    static func desiredValue(of key: SettingKey, unit name: String, in state: DesiredState) -> KeyTimeline.DesiredValue?
    {
        guard let unit = state.unit(named: name), let value = state.profile(for: unit)?.settings[key] else {
            return nil
        }
        return KeyTimeline.DesiredValue(value: value, tolerance: state.tolerance(for: key, on: unit))
    }

    /// The spans where `live` was known and beyond the tolerance of `desired`.
    static func drift(
        _ key: SettingKey,
        live: [Span<SettingValue?>],
        desired: [Span<KeyTimeline.DesiredValue?>]
    ) -> [Span<Bool>] {
        var out: [Span<Bool>] = []
        for l in live {
            guard let value = l.value else { continue }
            for d in desired {
                guard let want = d.value else { continue }
                let from = max(l.start, d.start)
                let to = min(l.end, d.end)
                guard from < to, !want.tolerance.allows(value, desired: want.value, for: key) else { continue }
                out.append(Span(start: from, end: to, value: true))
            }
        }
        return merge(out.sorted { $0.start < $1.start })
    }

    /// Joins neighbouring spans with the same value.
    static func merge<V>(_ spans: [Span<V>]) -> [Span<V>] {
        var out: [Span<V>] = []
        for span in spans {
            if var last = out.last, last.value == span.value, last.end >= span.start {
                last.end = max(last.end, span.end)
                out[out.count - 1] = last
            } else {
                out.append(span)
            }
        }
        return out
    }
}

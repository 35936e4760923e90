extension WallTime {
    /// ISO 8601 in UTC with seconds: `2026-11-21T03:15:00Z`.
    public var iso8601: String {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        let rest = secondsSince1970 - days * 86_400
        let date = CivilDate(daysSince1970: days)
        return "\(date)T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }

    /// The run-name form `2026-11-21T03:15Z` used in commit messages.
    public var minuteStamp: String {
        let full = iso8601
        return String(full.prefix(16)) + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC only), as written by ``iso8601``.
    public init?(iso8601 text: String) {
        let parts = text.split(separator: "T")
        guard parts.count == 2, parts[1].hasSuffix("Z"), let date = CivilDate(parsing: String(parts[0])) else {
            return nil
        }
        let clock = parts[1].dropLast().split(separator: ":")
        guard clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Int(clock[2]),
            (0..<24).contains(h), (0..<60).contains(m), (0..<61).contains(s)
        else { return nil }
        self.init(secondsSince1970: date.daysSince1970 * 86_400 + Int64(h * 3600 + m * 60 + s))
    }

    public func adding(seconds: Int64) -> WallTime {
        WallTime(secondsSince1970: secondsSince1970 + seconds, utcOffsetMinutes: utcOffsetMinutes)
    }
}

private func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

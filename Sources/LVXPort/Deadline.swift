/// A point on the monotonic clock by which an operation must finish.
public typealias Deadline = ContinuousClock.Instant

extension ContinuousClock.Instant {
    /// Milliseconds left until this deadline, rounded up, 0 if it has passed; for `poll()`.
    var pollMilliseconds: Int32 {
        let left = self - .now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }

    /// Whether the deadline has passed.
    var hasPassed: Bool { .now >= self }
}

extension Duration {
    /// A short human form for messages: `2 s`, `0.3 s`, `250 ms`.
    var shortText: String {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if millis < 1000 { return "\(millis) ms" }
        if millis % 1000 == 0 { return "\(millis / 1000) s" }
        let tenths = (millis + 50) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }

    /// The duration in whole milliseconds (truncated).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// One line of a unit's request log (`SERIAL.log`): what a client sent and what the unit did.
///
/// Line format, fields separated by one space:
/// `SEQ KIND PAYLOAD REPLY WIRE [NOTE]`, for example `7 S MCHGC1,060 ack 0.075000 routed:96142408100255`.
/// - SEQ: the unit's request sequence number, from 1, monotonic across restarts of one state dir.
/// - KIND: `P` query, `S` setter, `?` unparseable frame.
/// - PAYLOAD: the payload (`PIRI`, `MCHGV564,540`); `hex:` + the frame's bytes for `?`, or when the
///   payload holds a space; `-` when empty.
/// - REPLY: `data`, `ack`, `nak`, `dropped`, `corrupt`, `hang`, `unplugged` (the unit went away instead).
/// - WIRE: simulated wire seconds of the exchange, six decimals.
/// - NOTE (optional, no spaces): why, e.g. `out-of-range`, `forbidden:PF`, `not-honoured:battery_type`,
///   `ignored:float_voltage`, `routed:SERIAL`, `garbage`, `no-crc`, `crc-00-sent-as-01` (several joined by commas).
public struct RequestLogEntry: Sendable, Hashable, CustomStringConvertible {
    /// What kind of frame arrived.
    public enum Kind: String, Sendable, Hashable {
        case query = "P"
        case setter = "S"
        case unparseable = "?"
    }

    /// What the unit sent back.
    public enum Reply: String, Sendable, Hashable {
        case data
        case ack
        case nak
        case dropped
        case corrupt
        case hang
        case unplugged
    }

    public var sequence: Int
    public var kind: Kind
    /// The payload as logged (see the type's description).
    public var payload: String
    public var reply: Reply
    public var wireSeconds: Double
    public var note: String?

    public init(sequence: Int, kind: Kind, payload: String, reply: Reply, wireSeconds: Double, note: String? = nil) {
        self.sequence = sequence
        self.kind = kind
        self.payload = payload
        self.reply = reply
        self.wireSeconds = wireSeconds
        self.note = note
    }

    /// The log line, without the newline.
    public var description: String {
        var parts = [String(sequence), kind.rawValue, payload, reply.rawValue, formatSeconds(wireSeconds)]
        if let note, !note.isEmpty { parts.append(note) }
        return parts.joined(separator: " ")
    }

    /// Parses a log line; `nil` when it is not in the format above.
    public init?(line: String) {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 || parts.count == 6, let sequence = Int(parts[0]), let kind = Kind(rawValue: parts[1]),
            let reply = Reply(rawValue: parts[3]), let seconds = Double(parts[4])
        else { return nil }
        self.init(
            sequence: sequence,
            kind: kind,
            payload: parts[2],
            reply: reply,
            wireSeconds: seconds,
            note: parts.count == 6 ? parts[5] : nil
        )
    }

    /// The payload as the log shows it: itself when it is plain printable text, else `hex:` and the bytes.
    static func loggable(_ payload: String) -> String {
        if payload.isEmpty { return "-" }
        if payload.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return payload }
        return hex(Array(payload.utf8))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = Array("hex:".utf8)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Seconds with six decimals, without Foundation.
func formatSeconds(_ seconds: Double) -> String {
    let micro = Int((max(0, seconds) * 1_000_000).rounded())
    let fraction = String(micro % 1_000_000)
    return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.utf8.count) + fraction
}

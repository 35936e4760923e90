/// A request frame: `^` + `P`/`S` + 3-digit length + payload + CRC (2 bytes) + CR.
///
/// The length counts the payload, the two CRC bytes and the CR (`len(payload) + 3`), as the PDF
/// says. Build one from a ``PI18Query`` or ``PI18Setter``; there is no public initialiser from a
/// raw string, so only the commands those types allow can be framed.
public struct PI18RequestFrame: Sendable, Hashable {
    /// The complete bytes to send.
    public let bytes: [UInt8]
    /// The payload (command mnemonic and arguments), such as `PIRI` or `MCHGV564,540`.
    public let payload: String

    init(type: UInt8, payload: String) {
        let body = Array(payload.utf8)
        let length = body.count + 3
        var frame: [UInt8] = [0x5E, type]
        frame += Array(threeDigits(length).utf8)
        frame += body
        let (high, low) = PI18CRC.wireBytes(frame)
        frame += [high, low, 0x0D]
        self.bytes = frame
        self.payload = payload
    }

    /// The frame as readable text with the CRC in hex: `^P007PIRI<EE38>`.
    public var display: String {
        let head = String(decoding: bytes.prefix(bytes.count - 3), as: UTF8.self)
        let crc = bytes.dropLast().suffix(2).map { byte -> String in
            let h = String(byte, radix: 16, uppercase: true)
            return h.count == 1 ? "0" + h : h
        }
        return head + "<" + crc.joined() + ">"
    }
}

func threeDigits(_ value: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, 3 - text.count)) + text
}

/// A reply from the inverter, after its framing, length and CRC were verified.
public enum PI18Reply: Sendable, Hashable {
    /// `^D` + data: the payload with the CRC already removed, split on commas.
    case data(fields: [String])
    /// `^1`: the setter was accepted.
    case accepted
    /// `^0`: the setter (or query) was refused.
    case refused

    /// Parses one reply frame, ending in CR.
    ///
    /// Verifies the start, the declared length against the bytes received, and the CRC. The CRC
    /// bytes are removed *before* splitting on commas, because a CRC byte can itself be a comma.
    /// Field widths are never assumed.
    public static func parse(_ bytes: [UInt8]) throws(PI18WireError) -> PI18Reply {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.last == 0x0D else { throw .unterminated }
        guard bytes.count >= 5 else { throw .truncated(bytes.count) }
        guard bytes[0] == 0x5E else {
            throw .badStart(printable(bytes.prefix(2)))
        }
        let crcBytes = (bytes[bytes.count - 3], bytes[bytes.count - 2])
        let covered = bytes[0..<(bytes.count - 3)]
        switch bytes[1] {
        case 0x31, 0x30:  // ^1 / ^0
            guard bytes.count == 5 else { throw .truncated(bytes.count) }
            try verifyCRC(crcBytes, covered)
            return bytes[1] == 0x31 ? .accepted : .refused
        case 0x44:  // ^D
            guard bytes.count >= 8 else { throw .truncated(bytes.count) }
            let digits = bytes[2..<5]
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .badStart(printable(bytes.prefix(5)))
            }
            let declared = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            let actual = bytes.count - 5
            guard declared == actual else { throw .lengthMismatch(declared: declared, actual: actual) }
            try verifyCRC(crcBytes, covered)
            let payload = bytes[5..<(bytes.count - 3)]
            guard payload.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw .notASCII }
            let text = String(decoding: payload, as: UTF8.self)
            return .data(fields: text.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        default:
            throw .badStart(printable(bytes.prefix(2)))
        }
    }

    private static func verifyCRC(_ sent: (UInt8, UInt8), _ covered: ArraySlice<UInt8>) throws(PI18WireError) {
        guard PI18CRC.matches(sent, over: covered) else {
            let (h, l) = PI18CRC.wireBytes(covered)
            throw .crcMismatch(expected: UInt16(h) << 8 | UInt16(l), got: UInt16(sent.0) << 8 | UInt16(sent.1))
        }
    }

    private static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }

    /// Encodes a data reply (used by the simulator): `^D` + length + payload + CRC + CR.
    public static func encodeData(_ payload: String) -> [UInt8] {
        let body = Array(payload.utf8)
        var frame: [UInt8] = [0x5E, 0x44] + Array(threeDigits(body.count + 3).utf8) + body
        let (h, l) = PI18CRC.wireBytes(frame)
        frame += [h, l, 0x0D]
        return frame
    }

    /// The 5-byte acknowledgement frames: `^1` + CRC + CR and `^0` + CRC + CR.
    public static let acceptedFrame: [UInt8] = ackFrame(0x31)
    public static let refusedFrame: [UInt8] = ackFrame(0x30)

    private static func ackFrame(_ kind: UInt8) -> [UInt8] {
        let head: [UInt8] = [0x5E, kind]
        let (h, l) = PI18CRC.wireBytes(head)
        return head + [h, l, 0x0D]
    }
}

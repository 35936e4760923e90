/// An inverter's serial number in its short form, the first `LL` digits of the `ID` reply.
///
/// The `ID` reply `1496142109100037000000` means serial `96142109100037`. Both that raw
/// 22-character string (as the seed and powermon print it) and the short form are accepted;
/// ``description`` is always the short form.
public struct SerialNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The short form: 1 to 20 digits.
    public let digits: String

    /// Parses the short form (1-20 digits) or the raw `ID` form (`LL` + 20 digits).
    ///
    /// Returns `nil` for anything else: letters, an empty string, a raw form whose `LL` is 0 or
    /// above 20.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if bytes.count == 22 {
            let length = Int(bytes[0] - 0x30) * 10 + Int(bytes[1] - 0x30)
            guard (1...20).contains(length) else { return nil }
            digits = String(decoding: bytes[2..<(2 + length)], as: UTF8.self)
        } else if bytes.count <= 20 {
            digits = text
        } else {
            return nil
        }
    }

    public var description: String { digits }

    public static func < (lhs: SerialNumber, rhs: SerialNumber) -> Bool { lhs.digits < rhs.digits }
}

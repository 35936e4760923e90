/// Why a PI18 reply was rejected; each case says what was wrong with the bytes.
public enum PI18WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No bytes arrived.
    case empty
    /// The reply does not end with CR.
    case unterminated
    /// The reply does not start with `^D`, `^1` or `^0`.
    case badStart(String)
    /// The declared length disagrees with the bytes received.
    case lengthMismatch(declared: Int, actual: Int)
    /// The CRC bytes do not match the frame.
    case crcMismatch(expected: UInt16, got: UInt16)
    /// The reply is too short to hold a header, CRC and CR.
    case truncated(Int)
    /// A data reply carried bytes that are not printable ASCII.
    case notASCII
    /// The inverter refused the query with `^0`.
    case refused
    /// A data reply was expected and an acknowledgement came, or the reverse.
    case unexpectedKind(expected: String, got: String)
    /// The reply has the wrong number of fields for the command.
    case fieldCount(command: String, expected: String, got: Int)
    /// A field is not of the form the command defines.
    case badField(command: String, index: Int, value: String, expected: String)

    public var description: String {
        switch self {
        case .empty: "no reply"
        case .unterminated: "reply not terminated by CR"
        case .badStart(let prefix): "reply starts with \(prefix), not ^D, ^1 or ^0"
        case .lengthMismatch(let declared, let actual):
            "reply length field says \(declared) but \(actual) bytes followed the header"
        case .crcMismatch(let expected, let got):
            "reply CRC is \(hex(got)), expected \(hex(expected))"
        case .truncated(let count): "reply too short (\(count) bytes)"
        case .notASCII: "reply payload is not ASCII"
        case .refused: "inverter answered ^0 (refused)"
        case .unexpectedKind(let expected, let got): "expected \(expected), got \(got)"
        case .fieldCount(let command, let expected, let got):
            "\(command) reply has \(got) fields, expected \(expected)"
        case .badField(let command, let index, let value, let expected):
            "\(command) reply field \(index) is '\(value)', expected \(expected)"
        }
    }

    private func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

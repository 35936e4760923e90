import LVXCore

/// A PI18 query (`^P` frame).
///
/// Only the queries lvx uses exist, as static members.
public struct PI18Query: Sendable, Hashable, CustomStringConvertible {
    /// The mnemonic, such as `PIRI`.
    public let mnemonic: String

    private init(_ mnemonic: String) { self.mnemonic = mnemonic }

    /// Protocol id; the PI18 query is `^P005PI`.
    public static let protocolID = PI18Query("PI")
    /// Serial number; the PI18 query is `^P005ID`.
    public static let serialNumber = PI18Query("ID")
    /// CPU firmware versions; the PI18 query is `^P006VFW`.
    public static let firmwareVersions = PI18Query("VFW")
    /// Rated information and current settings; the PI18 query is `^P007PIRI`.
    public static let ratedInformation = PI18Query("PIRI")
    /// General status; the PI18 query is `^P005GS`.
    public static let generalStatus = PI18Query("GS")
    /// Working mode; the PI18 query is `^P006MOD`.
    public static let workingMode = PI18Query("MOD")
    /// Fault and warning status; the PI18 query is `^P006FWS` (the PDF's `^P005FWS` has a length typo).
    public static let faultStatus = PI18Query("FWS")
    /// Enabled/disabled flags; the PI18 query is `^P007FLAG`.
    public static let flags = PI18Query("FLAG")
    /// Settable max charging currents; the PI18 query is `^P009MCHGCR`.
    public static let chargingCurrentOptions = PI18Query("MCHGCR")
    /// Settable max utility charging currents; the PI18 query is `^P010MUCHGCR`.
    public static let utilityChargingCurrentOptions = PI18Query("MUCHGCR")

    /// Every query lvx can send.
    public static let all: [PI18Query] = [
        .protocolID, .serialNumber, .firmwareVersions, .ratedInformation, .generalStatus, .workingMode,
        .faultStatus, .flags, .chargingCurrentOptions, .utilityChargingCurrentOptions,
    ]

    /// The frame to send.
    public var frame: PI18RequestFrame { PI18RequestFrame(type: 0x50, payload: mnemonic) }

    public var description: String { mnemonic }
}

/// A PI18 setter (`^S` frame), built only from a ``SettingWrite``.
///
/// These are the setters for the twelve profile keys. Factory reset, energy clearing, date, serial, frequency and voltage setters have
/// no constructor.
public struct PI18Setter: Sendable, Hashable, CustomStringConvertible {
    /// The payload, such as `MCHGC1,060` or `BUCD480,000`.
    public let payload: String
    /// The write this setter performs.
    public let write: SettingWrite

    /// Why a write could not be encoded in the PDF's format.
    public struct EncodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Encodes `write` exactly as the PDF's formats: `POP1` (never `POP01`), `MCHGC0,060`,
    /// `BUCD480,540`, `000` for "full".
    ///
    /// The mnemonic, the machine digit and the field order come from the setter table,
    /// ``SettingWrite/Kind``; each field is formatted by its key's kind: a choice as one digit, a
    /// voltage as three digits of tenths, a current as three digits of amperes.
    public init(_ write: SettingWrite) throws(EncodingError) {
        self.write = write
        let kind = write.kind
        switch kind.mnemonic {
        case .fixed(let mnemonic):
            var fields: [String] = []
            if let index = write.parallelIndex { fields.append(try Self.digit(index, "parallel index")) }
            for (key, value) in zip(kind.keys, write.values) { fields.append(try Self.field(value, key)) }
            payload = mnemonic + fields.joined(separator: ",")
        case .perChoice(let mnemonics):
            // Grid tie: the value's code picks PDI or PEI and is not sent as a field.
            let key = kind.keys.first ?? .gridTie
            let code = write.values.first?.raw ?? -1
            guard mnemonics.indices.contains(code) else {
                let names = mnemonics.indices.map { i in "\(i) (\(key.format(SettingValue(raw: i))))" }
                throw EncodingError(
                    message: "\(key.rawValue) code \(code) is neither \(names.joined(separator: " nor "))"
                )
            }
            payload = mnemonics[code]
        }
    }

    /// The frame to send.
    public var frame: PI18RequestFrame { PI18RequestFrame(type: 0x53, payload: payload) }

    public var description: String { payload }

    private static func digit(_ value: Int, _ what: String) throws(EncodingError) -> String {
        guard (0...9).contains(value) else { throw EncodingError(message: "\(what) \(value) is not a single digit") }
        return String(value)
    }

    /// One field of `key`: a choice as one digit, a voltage as three digits of tenths, a current as
    /// three digits of amperes.
    private static func field(_ value: SettingValue, _ key: SettingKey) throws(EncodingError) -> String {
        switch key.kind {
        case .choice: return try digit(value.raw, key.rawValue)
        case .voltage:
            guard (0...999).contains(value.raw) else {
                throw EncodingError(message: "\(key.rawValue) \(value.raw) tenths of a volt does not fit three digits")
            }
            return threeDigits(value.raw)
        case .current:
            guard (0...999).contains(value.raw) else {
                throw EncodingError(message: "\(key.rawValue) \(value.raw) A does not fit three digits")
            }
            return threeDigits(value.raw)
        }
    }
}

/// A request as a device receives it: used by the simulator to read what a client sent.
///
/// Tolerant like a device: the CRC may be missing (mpp-solar's `pi18lvx` sends none), or use
/// either 0x00 convention. Parsing a request never builds one, so it cannot widen what lvx sends.
public struct PI18IncomingRequest: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case query
        case set
    }

    public var kind: Kind
    public var payload: String
    /// Whether the frame carried a CRC (and it matched).
    public var hadCRC: Bool

    /// Why a request was not understood.
    public enum ParseError: Error, Sendable, Equatable {
        case notARequest
        case badLength(declared: Int, actual: Int)
        case badCRC
    }

    /// Parses one request frame ending in CR (leading 0x00 padding already removed).
    public static func parse(_ bytes: [UInt8]) -> Result<PI18IncomingRequest, ParseError> {
        guard bytes.count >= 7, bytes[0] == 0x5E, bytes.last == 0x0D,
            bytes[1] == 0x50 || bytes[1] == 0x53,
            bytes[2..<5].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return .failure(.notARequest) }
        let kind: Kind = bytes[1] == 0x50 ? .query : .set
        let declared = bytes[2..<5].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let afterHeader = bytes.count - 5
        if afterHeader == declared, bytes.count >= 8 {
            let crc = (bytes[bytes.count - 3], bytes[bytes.count - 2])
            if PI18CRC.matches(crc, over: bytes[0..<(bytes.count - 3)]) {
                let payload = bytes[5..<(bytes.count - 3)]
                guard payload.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .failure(.badCRC) }
                return .success(
                    PI18IncomingRequest(kind: kind, payload: String(decoding: payload, as: UTF8.self), hadCRC: true)
                )
            }
            // The same length could be a no-CRC frame only if the payload were 2 bytes longer; fall through.
        }
        if afterHeader == declared - 2 {
            let payload = bytes[5..<(bytes.count - 1)]
            guard payload.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .failure(.notARequest) }
            return .success(
                PI18IncomingRequest(kind: kind, payload: String(decoding: payload, as: UTF8.self), hadCRC: false)
            )
        }
        if afterHeader == declared { return .failure(.badCRC) }
        return .failure(.badLength(declared: declared, actual: afterHeader))
    }
}

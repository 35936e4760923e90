import Foundation

/// One entry of `pi18-captures.json`: a reply found in public PI18 code or captures, with provenance.
public struct PI18Capture: Sendable, CustomStringConvertible {
    /// The query (or setter family) the reply answers, such as `PIRI`.
    public var command: String
    /// The bytes as shipped by the source.
    public var bytes: [UInt8]
    /// The bytes after the catalogue's repair of a known damage (UTF-8 mojibake), if any.
    public var repaired: [UInt8]?
    /// `repo:path` where the bytes were found.
    public var source: String
    /// Whether the CRC in `bytes` is valid, per the catalogue (nil: not applicable).
    public var crcValid: Bool?
    /// Whether the length field in `bytes` matches, per the catalogue (nil: no length field).
    public var lengthValid: Bool?
    /// The catalogue's field count.
    public var fieldCount: Int?
    /// The catalogue's notes.
    public var notes: String
    /// The entry's index in the file, to tell duplicates apart.
    public var index: Int

    /// `#index COMMAND from source`, used as the test's name so a failure shows provenance.
    public var description: String { "#\(index) \(command) from \(source)" }

    /// Loads every entry from `url`.
    public static func load(_ url: URL = PackagePaths.capturesFile()) throws -> [PI18Capture] {
        let data = try Data(contentsOf: url)
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
        return list.enumerated().map { index, entry in
            PI18Capture(
                command: entry["command"] as? String ?? "?",
                bytes: hexBytes(entry["response_hex"] as? String ?? ""),
                repaired: (entry["repaired_hex"] as? String).map(hexBytes),
                source: entry["source"] as? String ?? "?",
                crcValid: entry["crc_valid"] as? Bool,
                lengthValid: entry["length_valid"] as? Bool,
                fieldCount: entry["field_count"] as? Int,
                notes: entry["notes"] as? String ?? "",
                index: index
            )
        }
    }
}

/// Parses a hex string (`5e44...`) into bytes; whitespace is ignored.
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    var out: [UInt8] = []
    var i = 0
    while i + 1 < digits.count {
        if let v = UInt8(String(digits[i]) + String(digits[i + 1]), radix: 16) { out.append(v) }
        i += 2
    }
    return out
}

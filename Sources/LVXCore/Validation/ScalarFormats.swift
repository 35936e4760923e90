/// A decimal number as written in YAML (`54`, `54.0`, `-0.1`, `.5`), kept exact.
///
/// Exponents, underscores, hex and octal forms are not accepted: settings are written plainly.
struct DecimalNumber: Equatable {
    var isNegative: Bool
    /// The digits before the point, without leading zeros (empty for zero).
    var integerDigits: [UInt8]
    /// The digits after the point, without trailing zeros (empty for a whole number).
    var fractionDigits: [UInt8]

    /// At most this many digits before the point, so scaled values always fit an `Int`.
    static let maxIntegerDigits = 12

    init?(_ text: String) {
        let bytes = Array(text.utf8)
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        var index = 0
        isNegative = bytes.first == UInt8(ascii: "-")
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { index = 1 }
        var whole: [UInt8] = []
        while index < bytes.count, isDigit(bytes[index]) {
            whole.append(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        var fraction: [UInt8] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, isDigit(bytes[index]) {
                fraction.append(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
        }
        guard index == bytes.count, !(whole.isEmpty && fraction.isEmpty) else { return nil }
        while whole.first == 0 { whole.removeFirst() }
        while fraction.last == 0 { fraction.removeLast() }
        guard whole.count <= Self.maxIntegerDigits else { return nil }
        integerDigits = whole
        fractionDigits = fraction
    }

    var isZero: Bool { integerDigits.isEmpty && fractionDigits.isEmpty }

    /// The value times 10^`decimals` when that is a whole number, else `nil`.
    func scaled(decimals: Int) -> Int? {
        guard fractionDigits.count <= decimals else { return nil }
        let padded = fractionDigits + Array(repeating: 0, count: decimals - fractionDigits.count)
        let magnitude = (integerDigits + padded).reduce(0) { $0 * 10 + Int($1) }
        return isNegative ? -magnitude : magnitude
    }

    /// The value times 10^`decimals`, truncated toward zero.
    func truncated(decimals: Int) -> Int {
        let kept = Array(fractionDigits.prefix(decimals))
        let padded = kept + Array(repeating: 0, count: decimals - kept.count)
        let magnitude = (integerDigits + padded).reduce(0) { $0 * 10 + Int($1) }
        return isNegative ? -magnitude : magnitude
    }
}

/// Suggestions for misspelt names, by edit distance.
enum Suggestion {
    /// The candidate closest to `word`, if it is close enough to be a likely typo.
    ///
    /// Uses the optimal-string-alignment distance (a swap of two neighbours costs 1) and accepts a
    /// distance of at most a third of the word's length (at least 1, at most 3). A case-only
    /// difference always counts as close, and so does a candidate that extends a word of three or
    /// more characters (`eg4-lp4` for `eg4-lp4-v2`).
    static func closest(to word: String, among candidates: [String]) -> String? {
        if let sameIgnoringCase = candidates.first(where: { $0.lowercased() == word.lowercased() }) {
            return sameIgnoringCase
        }
        let limit = min(3, max(1, word.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = distance(word, candidate)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        if let best { return best.candidate }
        guard word.count >= 3 else { return nil }
        return candidates.filter { $0.hasPrefix(word) }.min { $0.count < $1.count }
    }

    /// The optimal-string-alignment distance between `a` and `b`.
    static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a)
        let t = Array(b)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var previous2 = [Int](repeating: 0, count: t.count + 1)
        var previous = Array(0...t.count)
        var current = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[t.count]
    }
}

/// Small text formats of `lvx.yaml`: names, durations, systemd unit names.
enum TextFormats {
    /// Whether `name` is usable as a unit or stack name: it starts with a letter or digit and
    /// holds only ASCII letters, digits, `.`, `_` and `-` (it appears in file names and commands).
    static func isSimpleName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isAlphanumeric(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// Parses a duration such as `24h`, `90m`, `2d` or `1d12h` (units `d`, `h`, `m`, `s`) into seconds.
    static func durationSeconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var total: Int64 = 0
        var index = 0
        while index < bytes.count {
            var digits = 0
            var value: Int64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
                if digits > 9 { return nil }
            }
            guard digits > 0, index < bytes.count else { return nil }
            let unit: Int64
            switch bytes[index] {
            case UInt8(ascii: "d"): unit = 86_400
            case UInt8(ascii: "h"): unit = 3_600
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "s"): unit = 1
            default: return nil
            }
            total += value * unit
            index += 1
        }
        return total
    }

    /// The unit-type suffixes systemd knows.
    static let systemdUnitSuffixes = [
        ".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer",
        ".slice", ".scope",
    ]

    /// Whether `name` is a systemd unit name: a non-empty prefix of letters, digits and `:-_.\@`,
    /// then a unit-type suffix, 255 bytes at most.
    static func isSystemdUnitName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count <= 255, hasSystemdSuffix(name) else { return false }
        let allowed = Array(":-_.\\@".utf8)
        return bytes.allSatisfy { isAlphanumeric($0) || allowed.contains($0) }
    }

    /// Whether `name` ends in a unit-type suffix after at least one character.
    static func hasSystemdSuffix(_ name: String) -> Bool {
        systemdUnitSuffixes.contains { name.hasSuffix($0) && name.utf8.count > $0.utf8.count }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}

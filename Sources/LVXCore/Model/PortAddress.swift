/// Where an inverter is attached: a hidraw node, a serial line or a serial-over-TCP bridge.
///
/// The one parser of port strings: the transports, the command line and `lvx validate` all use it.
///
/// The accepted spellings are
/// - `/dev/hidrawN` or `hidraw:PATH`: USB HID, 8-byte reports;
/// - `serial:PATH` with an optional `?baud=N` (default 2400), or any other device path such as
///   `/dev/ttyUSB0`: an RS-232 or USB-serial line, 8N1, no flow control;
/// - `tcp://HOST:PORT` (IPv6 hosts in brackets): a raw serial-over-IP bridge.
///
/// ``description`` is the canonical form (`hidraw:/dev/hidraw0`, `serial:/dev/ttyUSB0`,
/// `serial:/dev/ttyS0?baud=9600`, `tcp://10.0.0.5:8899`); parsing it gives the same address back.
public enum PortAddress: Sendable, Hashable, CustomStringConvertible {
    /// A Linux hidraw node (or a pseudo-terminal serving the same byte stream).
    case hidraw(path: String)
    /// A serial line at `baud` bits per second.
    case serial(path: String, baud: Int)
    /// A TCP bridge that passes the serial bytes through unchanged.
    case tcp(host: String, port: UInt16)

    /// The baud rate PI18 inverters use; every known implementation sends 2400 8N1.
    public static let defaultBaud = 2400

    /// The baud rates `?baud=N` accepts.
    public static let supportedBauds = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200]

    /// The accepted forms, as listed in error messages.
    public static let acceptedForms =
        "/dev/hidrawN, hidraw:PATH, serial:PATH[?baud=N], a device path such as "
        + "/dev/ttyUSB0, or tcp://HOST:PORT"

    /// One example of each accepted form, as listed in the hints of `lvx validate`.
    public static let examples = "hidraw:/dev/hidraw0, /dev/hidraw0, serial:/dev/ttyUSB0?baud=2400, tcp://HOST:PORT"

    /// Parses one port string.
    ///
    /// - Throws: ``PortAddressError`` naming the string, what is wrong and the accepted forms.
    public init(parsing text: String) throws(PortAddressError) {
        let trimmed = text.trimmingSpaces()
        func fail(_ why: String) -> PortAddressError { PortAddressError(text: text, reason: why) }
        if trimmed.isEmpty { throw fail("it is empty") }

        if let rest = trimmed.dropPrefix("hidraw:") {
            guard rest.hasPrefix("/"), rest.count > 1 else { throw fail("the hidraw path must be absolute") }
            guard !rest.contains("?") else { throw fail("hidraw ports take no options") }
            self = .hidraw(path: rest)
        } else if let rest = trimmed.dropPrefix("serial:") {
            let (path, baud) = try Self.pathAndBaud(rest, original: text)
            self = .serial(path: path, baud: baud)
        } else if let rest = trimmed.dropPrefix("tcp://") {
            self = try Self.tcp(rest, original: text)
        } else if trimmed.hasPrefix("/") {
            let (path, baud) = try Self.pathAndBaud(trimmed, original: text)
            if Self.isHidrawNode(path) {
                guard trimmed == path else { throw fail("hidraw ports take no options") }
                self = .hidraw(path: path)
            } else {
                self = .serial(path: path, baud: baud)
            }
        } else if trimmed.contains("://") {
            throw fail("only tcp:// is supported as a network port")
        } else {
            throw fail("it is neither a device path nor a hidraw:, serial: or tcp:// port")
        }
    }

    /// Parses a comma-separated list such as the value of `LVX_PORTS` or `--port`.
    ///
    /// Spaces around entries and empty entries are ignored; duplicates (after canonicalising)
    /// are dropped, keeping the first.
    /// - Throws: ``PortAddressError`` for the first entry that is not a port string.
    public static func parseList(_ text: String) throws(PortAddressError) -> [PortAddress] {
        var out: [PortAddress] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
            let item = String(entry).trimmingSpaces()
            if item.isEmpty { continue }
            let address = try PortAddress(parsing: item)
            if !out.contains(address) { out.append(address) }
        }
        return out
    }

    /// The canonical port string.
    public var description: String {
        switch self {
        case .hidraw(let path): "hidraw:" + path
        case .serial(let path, let baud): "serial:" + path + (baud == Self.defaultBaud ? "" : "?baud=\(baud)")
        case .tcp(let host, let port): "tcp://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        }
    }

    /// The device path for hidraw and serial ports, `nil` for TCP.
    public var path: String? {
        switch self {
        case .hidraw(let path), .serial(let path, _): path
        case .tcp: nil
        }
    }

    private static func isHidrawNode(_ path: String) -> Bool {
        guard let number = path.dropPrefix("/dev/hidraw") else { return false }
        return !number.isEmpty && number.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func pathAndBaud(_ text: String, original: String) throws(PortAddressError) -> (String, Int) {
        let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        guard path.hasPrefix("/"), path.count > 1 else {
            throw PortAddressError(text: original, reason: "the serial path must be absolute")
        }
        guard parts.count == 2 else { return (path, defaultBaud) }
        guard let value = String(parts[1]).dropPrefix("baud=") else {
            throw PortAddressError(text: original, reason: "the only serial option is ?baud=N")
        }
        guard let baud = Int(value), supportedBauds.contains(baud) else {
            let list = supportedBauds.map(String.init).joined(separator: ", ")
            throw PortAddressError(text: original, reason: "baud '\(value)' is not one of \(list)")
        }
        return (path, baud)
    }

    private static func tcp(_ rest: String, original: String) throws(PortAddressError) -> PortAddress {
        func fail(_ why: String) -> PortAddressError { PortAddressError(text: original, reason: why) }
        let host: String
        let portText: String
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("the IPv6 host has no closing ']'") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { throw fail("the port number is missing (tcp://HOST:PORT)") }
            portText = String(after.dropFirst())
        } else {
            guard let colon = rest.lastIndex(of: ":") else {
                throw fail("the port number is missing (tcp://HOST:PORT)")
            }
            host = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
            guard !host.contains(":") else { throw fail("an IPv6 host must be written in brackets, [::1]") }
        }
        guard !host.isEmpty else { throw fail("the host is empty") }
        guard !host.contains("/"), !host.contains("?"), !host.contains(" ") else {
            throw fail("'\(host)' is not a host name or address")
        }
        guard let port = UInt16(portText), port > 0 else {
            throw fail("'\(portText)' is not a port number from 1 to 65535")
        }
        return .tcp(host: host, port: port)
    }
}

/// A port string that is not one of the accepted forms.
public struct PortAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The string as given.
    public var text: String
    /// What is wrong with it.
    public var reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    /// The string and what is wrong with it, without the accepted forms: `port 'COM3' is not valid: ...`.
    public var summary: String { "port '\(text)' is not valid: \(reason)" }

    public var description: String { "\(summary); use \(PortAddress.acceptedForms)" }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }

    fileprivate func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

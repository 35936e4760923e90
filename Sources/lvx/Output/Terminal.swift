import Foundation

/// One output stream, with colour only when it is a terminal that wants colour.
struct Terminal: Sendable {
    let fd: Int32
    let colour: Bool

    static let standardOutput = Terminal(fd: 1)
    static let standardError = Terminal(fd: 2)

    /// Text without colour, for the journal and sd_notify (never written to a stream).
    static let plain = Terminal(fd: -1, colour: false)

    init(fd: Int32) {
        self.fd = fd
        self.colour = isatty(fd) == 1 && Self.environmentAllowsColour(ProcessInfo.processInfo.environment)
    }

    init(fd: Int32, colour: Bool) {
        self.fd = fd
        self.colour = colour
    }

    /// Whether the environment allows colour: not when `NO_COLOR` is set to a non-empty value
    /// (no-color.org: an empty `NO_COLOR=` does not count), and not on `TERM=dumb`.
    static func environmentAllowsColour(_ environment: [String: String]) -> Bool {
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.write(fd, base + offset, raw.count - offset)
            }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    func line(_ text: String = "") { write(text + "\n") }

    /// Paints `text` with an ANSI colour when this stream is a colour terminal.
    func paint(_ text: String, _ colour: Colour) -> String {
        self.colour ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    enum Colour: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
        case bold = "1"
        case dim = "2"
    }

    /// `error: message` and, if given, `note: hint`.
    func error(_ message: String, hint: String? = nil) {
        line(paint("error:", .red) + " " + message)
        if let hint { line(paint("note:", .cyan) + " " + hint) }
    }

    func warning(_ message: String) { line(paint("warning:", .yellow) + " " + message) }

    func note(_ message: String) { line(paint("note:", .cyan) + " " + message) }
}

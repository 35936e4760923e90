/// The exit codes every command uses (design: exit codes).
public enum ExitStatus: Int32, Sendable, Hashable {
    case success = 0
    case failure = 1
    case changes = 2
    case applyFailed = 3
    case refused = 4
    case usage = 64
}

/// An error as the person at the terminal sees it: what happened, what to do, and the exit code.
///
/// Every module's errors adopt it, and the command line renders it once, at the edge.
public protocol UserFacingError: Error, CustomStringConvertible {
    /// What went wrong, lower-case, naming the object.
    var message: String { get }
    /// What the person can do about it.
    var hint: String? { get }
    /// The exit code it ends a command with.
    var exitStatus: ExitStatus { get }
    /// Lines printed before the message (each diagnostic with its source line and caret).
    var details: [String] { get }
}

extension UserFacingError {
    public var description: String { message }
    public var details: [String] { [] }
}

extension Refusal: UserFacingError {
    public var message: String { description }
    public var exitStatus: ExitStatus { .refused }
}

extension RepositoryError: UserFacingError {
    public var exitStatus: ExitStatus { .failure }
}

extension DeviceError: UserFacingError {
    public var message: String { description }
    public var exitStatus: ExitStatus { .failure }

    public var hint: String? {
        switch kind {
        case .open: openHint
        case .timeout: "check the cable and the baud rate; a unit that sleeps may need another try"
        case .badReply:
            "the reply was discarded, never used as a value; try again or check for a second program on the port"
        default: nil
        }
    }

    /// What to do about a port that could not be opened, by cause.
    private var openHint: String {
        switch openFailure {
        case .permissionDenied:
            "lvx may not open the device: install examples/udev/99-lvx.rules and add the user to the group "
                + "'lvx' (hidraw) or 'dialout' (serial adapters), then log in again"
        case .noSuchDevice:
            port.hasPrefix("serial:")
                ? "check the cable and the path; `ls /dev/ttyUSB*` lists the USB-serial adapters"
                : "check the cable and the path; `ls /dev/hidraw*` lists the hidraw nodes"
        case .connectionRefused:
            "nothing accepts connections there: check the bridge's address and port and that it is running"
        case .notATerminal, .notACharacterDevice:
            "the port string names something that is not a serial device or hidraw node; "
                + "use a port such as hidraw:/dev/hidraw0 or serial:/dev/ttyUSB0"
        case .busy:
            "another program (such as powermon) holds the device; stop it, or let `lvx apply` stop the "
                + "services listed in apply.stop_units"
        case .other, nil:
            "check the port string and that no other program (such as powermon) holds the device"
        }
    }
}

/// The desired state at a commit has errors: nothing may be planned or applied from it.
public struct InvalidDesiredState: UserFacingError {
    public var commit: String
    public var diagnostics: [Diagnostic]
    /// Each diagnostic rendered with its source line and caret.
    public var details: [String]

    public init(commit: String, diagnostics: [Diagnostic], details: [String] = []) {
        self.commit = commit
        self.diagnostics = diagnostics
        self.details = details
    }

    public var message: String {
        "the desired state at \(String(commit.prefix(12))) is invalid: \(DiagnosticRenderer.summary(diagnostics))"
    }
    public var hint: String? { "run `lvx validate` and fix the errors above" }
    public var exitStatus: ExitStatus { .failure }
}

import ArgumentParser
import Foundation
import LVXCore

/// The exit codes every command uses (design: exit codes).
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case changes = 2
    case applyFailed = 3
    case refused = 4
    case usage = 64
}

/// An error as the person at the terminal sees it: what happened, what to do, and the exit code.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var hint: String?
    var status: ExitStatus

    init(_ message: String, hint: String? = nil, status: ExitStatus = .failure) {
        self.message = message
        self.hint = hint
        self.status = status
    }

    var description: String { message }
}

extension CLIError {
    init(_ error: DeviceError) {
        let hint: String? =
            switch error.kind {
            case .open: Self.openHint(error)
            case .timeout: "check the cable and the baud rate; a unit that sleeps may need another try"
            case .badReply:
                "the reply was discarded, never used as a value; try again or check for a second program on the port"
            default: nil
            }
        self.init(error.description, hint: hint)
    }

    /// What to do about a port that could not be opened, by cause.
    private static func openHint(_ error: DeviceError) -> String {
        switch error.openFailure {
        case .permissionDenied:
            "lvx may not open the device: install examples/udev/99-lvx.rules and add the user to the group "
                + "'lvx' (hidraw) or 'dialout' (serial adapters), then log in again"
        case .noSuchDevice:
            error.port.hasPrefix("serial:")
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

    init(_ error: RepositoryError) {
        self.init(error.message, hint: error.hint)
    }
}

/// Runs a command body and renders its outcome once, at the edge: errors to stderr, the exit code.
func execute(_ body: () async throws -> ExitStatus) async throws {
    // `lvx ... | head`: a closed pipe loses output, it does not kill an apply between two writes.
    signal(SIGPIPE, SIG_IGN)
    let status: ExitStatus
    do {
        status = try await body()
    } catch let refusal as Refusal {
        Terminal.standardError.error(refusal.description, hint: refusal.hint)
        status = .refused
    } catch let error as CLIError {
        Terminal.standardError.error(error.message, hint: error.hint)
        status = error.status
    } catch let error as DeviceError {
        let cli = CLIError(error)
        Terminal.standardError.error(cli.message, hint: cli.hint)
        status = .failure
    } catch let error as RepositoryError {
        Terminal.standardError.error(error.message, hint: error.hint)
        status = .failure
    } catch let error as ExitCode {
        throw error
    } catch {
        Terminal.standardError.error(String(describing: error))
        status = .failure
    }
    if status != .success { throw ExitCode(status.rawValue) }
}

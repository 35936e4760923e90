internal import CSystemd
import Glibc

/// A failed sd-bus call: the C function or D-Bus method, the errno and the D-Bus error, if any.
///
/// This is the one funnel for libsystemd's sd-bus return codes (negative errno values). The service
/// manager turns it into a ``ServiceError`` that names the unit.
struct BusFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function (`sd_bus_start`) or D-Bus method (`StopUnit`) that failed.
    var operation: String
    /// The errno value (the C function returned its negation).
    var errno: Int32
    /// The D-Bus error name, such as `org.freedesktop.systemd1.NoSuchUnit`, when the peer sent one.
    var errorName: String?
    /// The D-Bus error message, when the peer sent one.
    var errorMessage: String?

    /// The errno's text, lower-cased at the start (`no such file or directory`).
    var errnoText: String {
        let text = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// `StopUnit failed: org.freedesktop.DBus.Error.AccessDenied: access denied`, or the errno text.
    var description: String {
        if let errorName {
            let detail = errorMessage.map { ": " + $0 } ?? ""
            return "\(operation) failed: \(errorName)\(detail)"
        }
        return "\(operation) failed: \(errnoText) (errno \(errno))"
    }

    /// Whether the peer answered with the D-Bus error `name`.
    func isError(named name: String) -> Bool {
        errorName == name
    }

    /// The funnel: a negative `result` becomes a failure of `operation`, carrying `error` when set.
    static func check(
        _ result: Int32,
        _ operation: String,
        _ error: UnsafePointer<sd_bus_error>? = nil
    ) throws(BusFailure) {
        guard result < 0 else { return }
        throw BusFailure(
            operation: operation,
            errno: -result,
            errorName: error?.pointee.name.map { String(cString: $0) },
            errorMessage: error?.pointee.message.map { String(cString: $0) }
        )
    }
}

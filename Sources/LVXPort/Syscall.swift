import Glibc
import LVXCore

/// The one funnel through which LVXPort makes system calls (style R4).
///
/// Every call is retried on `EINTR`. `EBADF` and `EFAULT` mean lvx passed a closed descriptor or a
/// bad pointer, a bug, and trap. Every other failure becomes a ``TransportError`` that names the C
/// function and carries `strerror`'s text.
enum Syscall {
    /// Runs `body` until it does not fail with `EINTR`.
    ///
    /// - Parameters:
    ///   - function: the C function's name, for the error.
    ///   - port: the port string, for the error.
    ///   - kind: the error kind to report on failure.
    ///   - body: the call; a negative result means failure with `errno` set.
    /// - Returns: the call's non-negative result.
    /// - Throws: ``TransportError`` for any `errno` but `EINTR`.
    @discardableResult
    static func call<T: BinaryInteger>(
        _ function: String,
        port: String,
        kind: TransportError.Kind = .io,
        _ body: () -> T
    ) throws(TransportError) -> T {
        switch try callAllowingWouldBlock(function, port: port, kind: kind, body) {
        case .some(let value): return value
        case .none: throw error(function, port: port, kind: kind, code: EAGAIN)
        }
    }

    /// Like ``call(_:port:kind:_:)`` but returns `nil` when a non-blocking call would block
    /// (`EAGAIN`/`EWOULDBLOCK`) or a connect is under way (`EINPROGRESS`).
    static func callAllowingWouldBlock<T: BinaryInteger>(
        _ function: String,
        port: String,
        kind: TransportError.Kind = .io,
        _ body: () -> T
    ) throws(TransportError) -> T? {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, EINPROGRESS: return nil
            case EBADF, EFAULT:
                preconditionFailure("\(function) failed with \(describe(code)): a bug in lvx (\(port))")
            default:
                throw error(function, port: port, kind: kind, code: code)
            }
        }
    }

    /// The error for `code` returned by `function`.
    static func error(_ function: String, port: String, kind: TransportError.Kind, code: Int32) -> TransportError {
        let mapped: TransportError.Kind =
            (code == EIO || code == ENXIO || code == ENODEV) && kind == .io ? .closed : kind
        return TransportError(
            kind: mapped,
            port: port,
            function: function,
            errno: code,
            detail: describe(code),
            openFailure: mapped == .open ? DeviceError.OpenFailure(errno: code) : nil
        )
    }

    /// `strerror` text, lower-cased, with the errno number: `no such file or directory (errno 2)`.
    static func describe(_ code: Int32) -> String {
        let text: String
        if let c = strerror(code) {
            text = String(cString: c)
        } else {
            text = "unknown error"
        }
        return text.prefix(1).lowercased() + text.dropFirst() + " (errno \(code))"
    }
}

extension DeviceError.OpenFailure {
    /// The cause an `errno` from `open`, `tcgetattr` or `connect` stands for.
    init(errno code: Int32) {
        switch code {
        case EACCES, EPERM: self = .permissionDenied
        case ENOENT, ENXIO, ENODEV: self = .noSuchDevice
        case ECONNREFUSED: self = .connectionRefused
        case ENOTTY: self = .notATerminal
        case EBUSY: self = .busy
        default: self = .other
        }
    }
}

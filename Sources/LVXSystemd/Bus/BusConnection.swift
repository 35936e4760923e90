internal import CSystemd
import Glibc

/// The one owner of an `sd_bus` connection, flushed, closed and released in `deinit`.
///
/// - Important: sd-bus objects are not thread-safe. A connection is opened, used and released on
///   one thread (the service manager's bus thread) and never shared.
final class BusConnection {
    private let handle: OpaquePointer

    /// Connects to the system bus, or to `address` when given (a D-Bus address such as
    /// `unix:path=/run/dbus/system_bus_socket`).
    ///
    /// Without an address, `sd_bus_open_system` honours `DBUS_SYSTEM_BUS_ADDRESS`.
    /// The corresponding C functions are `sd_bus_open_system`, or `sd_bus_new`, `sd_bus_set_address`,
    /// `sd_bus_set_bus_client` and `sd_bus_start`.
    init(address: String?) throws(BusFailure) {
        var created: OpaquePointer?
        guard let address else {
            try BusFailure.check(sd_bus_open_system(&created), "sd_bus_open_system")
            handle = try Self.unwrap(created, "sd_bus_open_system")
            return
        }
        try BusFailure.check(sd_bus_new(&created), "sd_bus_new")
        let bus = try Self.unwrap(created, "sd_bus_new")
        do throws(BusFailure) {
            try BusFailure.check(sd_bus_set_address(bus, address), "sd_bus_set_address")
            try BusFailure.check(sd_bus_set_bus_client(bus, 1), "sd_bus_set_bus_client")
            try BusFailure.check(sd_bus_start(bus), "sd_bus_start")
        } catch {
            sd_bus_unref(bus)
            throw error
        }
        handle = bus
    }

    deinit {
        sd_bus_flush_close_unref(handle)
    }

    /// Calls `message` and returns the reply, or throws the D-Bus error the peer answered with.
    ///
    /// Messages that arrive while waiting (signals) stay queued for ``process()``.
    /// The corresponding C function is `sd_bus_call`.
    func call(_ message: BusMessage, timeout: Duration) throws(BusFailure) -> BusMessage {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let result = message.withUnsafeHandle { sd_bus_call(handle, $0, Self.microseconds(timeout), &error, &reply) }
        try withUnsafePointer(to: &error) { (pointer) throws(BusFailure) in
            try BusFailure.check(result, message.member, pointer)
        }
        return BusMessage(owning: try Self.unwrap(reply, message.member))
    }

    /// A new method call to `destination`'s object `path`, to be filled and passed to ``call(_:timeout:)``.
    ///
    /// The corresponding C function is `sd_bus_message_new_method_call`.
    func methodCall(
        destination: String,
        path: String,
        interface: String,
        member: String
    ) throws(BusFailure) -> BusMessage {
        var created: OpaquePointer?
        try BusFailure.check(
            sd_bus_message_new_method_call(handle, &created, destination, path, interface, member),
            "sd_bus_message_new_method_call"
        )
        return BusMessage(owning: try Self.unwrap(created, "sd_bus_message_new_method_call"), member: member)
    }

    /// Dispatches one queued or incoming message to its handlers.
    ///
    /// - Returns: `true` when a message was processed (call again), `false` when nothing is pending.
    ///   The corresponding C function is `sd_bus_process`.
    func process() throws(BusFailure) -> Bool {
        let result = sd_bus_process(handle, nil)
        try BusFailure.check(result, "sd_bus_process")
        return result > 0
    }

    /// Blocks until the connection has something to read or `timeout` has passed.
    ///
    /// The corresponding C function is `sd_bus_wait`.
    func wait(timeout: Duration) throws(BusFailure) {
        let result = sd_bus_wait(handle, Self.microseconds(timeout))
        // EINTR is not a failure: the caller checks its deadline and waits again.
        if result == -EINTR { return }
        try BusFailure.check(result, "sd_bus_wait")
    }

    /// Runs `body` with the raw handle; the handle must not escape.
    func withUnsafeHandle<T, E: Error>(_ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        try body(handle)
    }

    /// `duration` in whole microseconds, at least 1 (0 would mean "the default" to sd-bus).
    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        let micros = UInt64(seconds) &* 1_000_000 &+ UInt64(max(attoseconds, 0) / 1_000_000_000_000)
        return max(micros, 1)
    }

    private static func unwrap(_ pointer: OpaquePointer?, _ function: String) throws(BusFailure) -> OpaquePointer {
        guard let pointer else { throw BusFailure(operation: function, errno: ENOMEM) }
        return pointer
    }
}

internal import CSystemd
import Glibc

/// The one owner of an `sd_bus_message` reference, released in `deinit`.
///
/// Appends and reads use the non-variadic `sd_bus_message_append_basic` / `_read_basic`
/// (the variadic forms are unavailable from Swift).
final class BusMessage {
    private let handle: OpaquePointer
    /// The D-Bus member this message calls or answers, used in error messages.
    let member: String

    /// Takes over one reference to `handle`.
    init(owning handle: OpaquePointer, member: String = "reply") {
        self.handle = handle
        self.member = member
    }

    deinit {
        sd_bus_message_unref(handle)
    }

    /// Appends a D-Bus string (`s`).
    func append(_ string: String) throws(BusFailure) {
        try BusFailure.check(
            string.withCString { sd_bus_message_append_basic(handle, Self.type("s"), $0) },
            "sd_bus_message_append_basic"
        )
    }

    /// Reads a string-like value: `s` (string) or `o` (object path).
    func readString(_ type: Unicode.Scalar = "s") throws(BusFailure) -> String {
        try Self.readString(from: handle, type)
    }

    /// Reads a variant that holds a string (`v` containing `s`), such as a string property.
    ///
    /// The corresponding C functions are `sd_bus_message_enter_container`,
    /// `sd_bus_message_read_basic` and `sd_bus_message_exit_container`.
    func readStringVariant() throws(BusFailure) -> String {
        try BusFailure.check(
            sd_bus_message_enter_container(handle, Self.type("v"), "s"),
            "sd_bus_message_enter_container"
        )
        let value = try readString("s")
        try BusFailure.check(sd_bus_message_exit_container(handle), "sd_bus_message_exit_container")
        return value
    }

    /// Runs `body` with the raw handle; the handle must not escape.
    func withUnsafeHandle<T>(_ body: (OpaquePointer) -> T) -> T {
        body(handle)
    }

    /// Reads a string-like value from a message this code does not own (a handler's argument).
    static func readString(from message: OpaquePointer, _ type: Unicode.Scalar = "s") throws(BusFailure) -> String {
        var value: UnsafePointer<CChar>?
        try BusFailure.check(sd_bus_message_read_basic(message, Self.type(type), &value), "sd_bus_message_read_basic")
        guard let value else { throw BusFailure(operation: "sd_bus_message_read_basic", errno: EBADMSG) }
        return String(cString: value)
    }

    /// Reads a `u` (UInt32) from a message this code does not own.
    static func readUInt32(from message: OpaquePointer) throws(BusFailure) -> UInt32 {
        var value: UInt32 = 0
        try BusFailure.check(sd_bus_message_read_basic(message, Self.type("u"), &value), "sd_bus_message_read_basic")
        return value
    }

    /// A D-Bus type code as sd-bus takes it (a C `char`).
    static func type(_ code: Unicode.Scalar) -> CChar {
        CChar(bitPattern: UInt8(ascii: code))
    }
}

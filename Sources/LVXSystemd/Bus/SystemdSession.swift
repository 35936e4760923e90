internal import CSystemd
import Glibc

/// One conversation with systemd's manager over one private connection, on one thread.
///
/// It watches `JobRemoved` from the start, so a job that finishes while its own `StopUnit` call is
/// still waiting for the reply is not missed: sd-bus queues such signals and ``waitForJob(_:timeout:)``
/// dispatches them.
///
/// - Important: blocking and not thread-safe. Create, use and release it on one dedicated thread.
final class SystemdSession {
    static let destination = "org.freedesktop.systemd1"
    static let managerPath = "/org/freedesktop/systemd1"
    static let managerInterface = "org.freedesktop.systemd1.Manager"
    static let unitInterface = "org.freedesktop.systemd1.Unit"
    static let noSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"

    private let bus: BusConnection
    private let callTimeout: Duration
    /// The `JobRemoved` match, owned here and released before the connection.
    private var jobMatch: OpaquePointer?
    /// Results of finished jobs by job object path, filled by the `JobRemoved` handler.
    private var finishedJobs: [String: String] = [:]

    /// Connects to the system bus (or `address`).
    init(address: String?, callTimeout: Duration) throws(BusFailure) {
        bus = try BusConnection(address: address)
        self.callTimeout = callTimeout
    }

    deinit {
        if let jobMatch { sd_bus_slot_unref(jobMatch) }
    }

    /// Watches `JobRemoved` signals and asks systemd to send them (`Subscribe`).
    ///
    /// The corresponding C function is `sd_bus_match_signal`; then the method `Subscribe`.
    func watchJobs() throws(BusFailure) {
        let handler: sd_bus_message_handler_t = { message, userdata, _ in
            guard let message, let userdata else { return 0 }
            Unmanaged<SystemdSession>.fromOpaque(userdata).takeUnretainedValue().jobRemoved(message)
            return 0
        }
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try bus.withUnsafeHandle { (handle) throws(BusFailure) in
            try BusFailure.check(
                sd_bus_match_signal(
                    handle,
                    &jobMatch,
                    Self.destination,
                    Self.managerPath,
                    Self.managerInterface,
                    "JobRemoved",
                    handler,
                    userdata
                ),
                "sd_bus_match_signal"
            )
        }
        let subscribe = try managerCall("Subscribe")
        do throws(BusFailure) {
            _ = try bus.call(subscribe, timeout: callTimeout)
        } catch  where error.isError(named: "org.freedesktop.systemd1.AlreadySubscribed") {
            // Harmless: the signals come either way.
        }
    }

    /// The unit's `ActiveState` (`active`, `inactive`, `failed`…), or `nil` when systemd has no
    /// such unit loaded.
    ///
    /// Calls `GetUnit` for the unit's object path, then `org.freedesktop.DBus.Properties.Get`.
    func activeState(of unit: String) throws(BusFailure) -> String? {
        let getUnit = try managerCall("GetUnit")
        try getUnit.append(unit)
        let path: String
        do throws(BusFailure) {
            path = try bus.call(getUnit, timeout: callTimeout).readString("o")
        } catch  where error.isError(named: Self.noSuchUnit) {
            return nil
        }
        let get = try bus.methodCall(
            destination: Self.destination,
            path: path,
            interface: "org.freedesktop.DBus.Properties",
            member: "Get"
        )
        try get.append(Self.unitInterface)
        try get.append("ActiveState")
        do throws(BusFailure) {
            return try bus.call(get, timeout: callTimeout).readStringVariant()
        } catch  where error.isError(named: "org.freedesktop.DBus.Error.UnknownObject") {
            return nil
        }
    }

    /// Calls `method` (`StopUnit`, `StartUnit`) for `unit` with mode `replace`.
    ///
    /// - Returns: the job's object path.
    func enqueue(_ method: String, unit: String) throws(BusFailure) -> String {
        let call = try managerCall(method)
        try call.append(unit)
        try call.append("replace")
        return try bus.call(call, timeout: callTimeout).readString("o")
    }

    /// Processes bus traffic until `JobRemoved` for `job` arrives.
    ///
    /// - Returns: the job's result (`done`, `failed`, `canceled`, `timeout`, `dependency`,
    ///   `skipped`), or `nil` when `timeout` passed first.
    func waitForJob(_ job: String, timeout: Duration) throws(BusFailure) -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if let result = finishedJobs.removeValue(forKey: job) { return result }
            if try bus.process() { continue }
            let remaining = clock.now.duration(to: deadline)
            if remaining <= .zero { return nil }
            try bus.wait(timeout: remaining)
        }
    }

    /// Records one `JobRemoved(u id, o job, s unit, s result)`; a malformed signal is ignored.
    private func jobRemoved(_ message: OpaquePointer) {
        do throws(BusFailure) {
            _ = try BusMessage.readUInt32(from: message)
            let job = try BusMessage.readString(from: message, "o")
            _ = try BusMessage.readString(from: message, "s")
            finishedJobs[job] = try BusMessage.readString(from: message, "s")
        } catch {
            return
        }
    }

    private func managerCall(_ member: String) throws(BusFailure) -> BusMessage {
        try bus.methodCall(
            destination: Self.destination,
            path: Self.managerPath,
            interface: Self.managerInterface,
            member: member
        )
    }
}

import Foundation
import LVXCore

/// Stops and starts systemd units over D-Bus and waits for their jobs: the real ``ServiceManager``.
///
/// Each call opens its own connection to the system bus (or to ``busAddress``), subscribes to
/// systemd's job signals, and for each unit:
/// - `stop`: reads the unit's `ActiveState`; a unit that is `active`, `activating` or `reloading`
///   gets `StopUnit(unit, "replace")` and is returned; a `deactivating` one is stopped too (so the
///   port is free when `stop` returns) but not returned, since someone else was already stopping
///   it; an inactive, failed or unknown unit is left alone.
/// - `start`: `StartUnit(unit, "replace")`.
///
/// Every job is waited for until systemd's `JobRemoved` signal reports it, for at most
/// ``jobTimeout``; a result other than `done` is a ``ServiceError``.
///
/// The bus work runs on a dedicated thread, never on Swift's cooperative pool.
public struct SystemdServiceManager: ServiceManager {
    /// The D-Bus address to connect to, such as `unix:path=/run/dbus/system_bus_socket`; `nil`
    /// means the system bus (`DBUS_SYSTEM_BUS_ADDRESS` when set).
    public var busAddress: String?
    /// How long to wait for one stop or start job to finish.
    public var jobTimeout: Duration
    /// How long to wait for systemd to answer one method call.
    public var callTimeout: Duration

    /// A manager for the system bus, or for `busAddress` when given.
    public init(busAddress: String? = nil, jobTimeout: Duration = .seconds(90), callTimeout: Duration = .seconds(25)) {
        self.busAddress = busAddress
        self.jobTimeout = jobTimeout
        self.callTimeout = callTimeout
    }

    /// Stops each running unit in order and waits for each stop job.
    ///
    /// If a stop fails part-way, the units this call already stopped are started again before the
    /// error is thrown, so a failed `stop` leaves nothing stopped that the caller does not know of.
    ///
    /// - Returns: the units that were running and are now stopped, in the given order.
    /// - Throws: ``ServiceError`` naming the unit, the method and the D-Bus error or job result.
    public func stop(_ units: [String]) async throws(ServiceError) -> [String] {
        guard !units.isEmpty else { return [] }
        let manager = self
        let result = await BusThread.run(named: "lvx-systemd-stop") {
            Result { () throws(ServiceError) in try manager.stopBlocking(units) }
        }
        return try result.get()
    }

    /// Starts each unit in order and waits for each start job.
    ///
    /// Every unit is tried even when an earlier one fails; the error names all that failed.
    ///
    /// - Throws: ``ServiceError`` naming the unit(s), the method and the D-Bus error or job result.
    public func start(_ units: [String]) async throws(ServiceError) {
        guard !units.isEmpty else { return }
        let manager = self
        let result = await BusThread.run(named: "lvx-systemd-start") {
            Result { () throws(ServiceError) in try manager.startBlocking(units) }
        }
        try result.get()
    }

    /// The unit's `ActiveState` (`active`, `inactive`, `failed`…), or `nil` when it is not loaded.
    public func activeState(of unit: String) async throws(ServiceError) -> String? {
        let manager = self
        let result = await BusThread.run(named: "lvx-systemd-state") {
            Result { () throws(ServiceError) -> String? in
                let session = try manager.connect([unit])
                do throws(BusFailure) {
                    return try session.activeState(of: unit)
                } catch {
                    throw ServiceError(unit: unit, message: "cannot read its ActiveState: \(error)")
                }
            }
        }
        return try result.get()
    }

    /// States in which a unit is (or is becoming) up: these are stopped and restarted later.
    static let runningStates: Set<String> = ["active", "activating", "reloading", "refreshing"]

    // MARK: - Blocking work (bus thread only)

    private func stopBlocking(_ units: [String]) throws(ServiceError) -> [String] {
        let session = try connect(units)
        try watchJobs(session, units)
        var stopped: [String] = []
        for unit in units {
            do throws(ServiceError) {
                let state: String?
                do throws(BusFailure) {
                    state = try session.activeState(of: unit)
                } catch {
                    throw ServiceError(unit: unit, message: "cannot read its ActiveState: \(error)")
                }
                guard let state, Self.runningStates.contains(state) || state == "deactivating" else { continue }
                try runJob("StopUnit", unit: unit, session)
                if Self.runningStates.contains(state) { stopped.append(unit) }
            } catch {
                throw restart(stopped, after: error, session)
            }
        }
        return stopped
    }

    private func startBlocking(_ units: [String]) throws(ServiceError) {
        let session = try connect(units)
        try watchJobs(session, units)
        var failures: [ServiceError] = []
        for unit in units {
            do throws(ServiceError) {
                try runJob("StartUnit", unit: unit, session)
            } catch {
                failures.append(error)
            }
        }
        guard let first = failures.first else { return }
        guard failures.count > 1 else { throw first }
        throw ServiceError(
            unit: failures.map(\.unit).joined(separator: ", "),
            message: failures.map(\.description).joined(separator: "; ")
        )
    }

    /// Starts again the units a failed `stop` had already stopped, and says so in the error.
    private func restart(_ stopped: [String], after error: ServiceError, _ session: SystemdSession) -> ServiceError {
        guard !stopped.isEmpty else { return error }
        var notes: [String] = []
        for unit in stopped {
            do throws(ServiceError) {
                try runJob("StartUnit", unit: unit, session)
                notes.append("started \(unit) again")
            } catch {
                notes.append("starting \(unit) again also failed: \(error.message)")
            }
        }
        return ServiceError(unit: error.unit, message: error.message + "; " + notes.joined(separator: "; "))
    }

    /// Runs one job (`StopUnit`/`StartUnit`) and waits for it to end with `done`.
    private func runJob(_ method: String, unit: String, _ session: SystemdSession) throws(ServiceError) {
        let job: String
        let result: String?
        do throws(BusFailure) {
            job = try session.enqueue(method, unit: unit)
        } catch {
            throw ServiceError(unit: unit, message: Self.explain(error))
        }
        do throws(BusFailure) {
            result = try session.waitForJob(job, timeout: jobTimeout)
        } catch {
            throw ServiceError(unit: unit, message: "lost the bus while waiting for \(method) job \(job): \(error)")
        }
        guard let result else {
            throw ServiceError(
                unit: unit,
                message: "\(method) job \(job) did not finish within \(Self.seconds(jobTimeout)); "
                    + "check 'systemctl status \(unit)'"
            )
        }
        guard result == "done" else {
            throw ServiceError(
                unit: unit,
                message: "\(method) job \(job) ended with result '\(result)'; see 'journalctl -u \(unit)'"
            )
        }
    }

    private func connect(_ units: [String]) throws(ServiceError) -> SystemdSession {
        do throws(BusFailure) {
            return try SystemdSession(address: busAddress, callTimeout: callTimeout)
        } catch {
            let address =
                busAddress ?? ProcessInfo.processInfo.environment["DBUS_SYSTEM_BUS_ADDRESS"]
                ?? "unix:path=/run/dbus/system_bus_socket"
            throw ServiceError(
                unit: units.joined(separator: ", "),
                message: "cannot connect to the system bus at '\(address)': \(error.errnoText) (\(error.operation)); "
                    + "check that dbus and systemd are running"
            )
        }
    }

    private func watchJobs(_ session: SystemdSession, _ units: [String]) throws(ServiceError) {
        do throws(BusFailure) {
            try session.watchJobs()
        } catch {
            throw ServiceError(
                unit: units.joined(separator: ", "),
                message: "cannot subscribe to systemd's job signals: \(Self.explain(error))"
            )
        }
    }

    /// The failure's text, with what to do when systemd refused for lack of privilege.
    private static func explain(_ failure: BusFailure) -> String {
        switch failure.errorName {
        case "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
            return "\(failure); run lvx as root or allow it to manage this unit"
        default:
            return failure.description
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}

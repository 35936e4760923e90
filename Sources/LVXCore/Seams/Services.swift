/// The service manager that owns programs sharing the inverters' ports (systemd over D-Bus).
///
/// `apply` stops these units before its first write and starts them again afterwards, whatever
/// happened in between.
public protocol ServiceManager: Sendable {
    /// Stops each unit and waits for its stop job to finish.
    ///
    /// - Returns: the units that were active before and have been stopped (only these are restarted).
    func stop(_ units: [String]) async throws(ServiceError) -> [String]
    /// Starts each unit and waits for its start job to finish.
    func start(_ units: [String]) async throws(ServiceError)
}

extension ServiceManager {
    /// Starts `units` again after an apply, whatever happened to it.
    ///
    /// - Returns: `nil` when they started (or there were none), else what failed, for the record.
    public func startAgain(_ units: [String]) async -> String? {
        guard !units.isEmpty else { return nil }
        do {
            try await start(units)
            return nil
        } catch {
            return "could not start \(error.unit): \(error.message)"
        }
    }
}

/// A service-manager failure, naming the unit and the D-Bus error.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var unit: String
    public var message: String

    public init(unit: String, message: String) {
        self.unit = unit
        self.message = message
    }

    public var description: String { "\(unit): \(message)" }
}

/// Progress reporting to the supervisor (sd_notify `STATUS=` lines under systemd).
public protocol ServiceNotifier: Sendable {
    func status(_ text: String)
}

import LVXCore
import LVXPort

/// The desired units, opened and read: what `plan`, `apply` and `run` work on.
struct Fleet {
    var targets: [SerialNumber: Target]

    /// Opens every unit of the desired state (by its `port:`, else by discovery).
    static func open(_ state: DesiredState, resolver: UnitResolver) async throws -> Fleet {
        let refs = state.units.map { $0.port ?? $0.serial.digits }
        let targets = try await resolver.resolve(refs)
        var byserial: [SerialNumber: Target] = [:]
        for (unit, target) in zip(state.units, targets) {
            var t = target
            t.name = unit.name
            t.serial = unit.serial
            byserial[unit.serial] = t
        }
        return Fleet(targets: byserial)
    }

    var devices: [SerialNumber: any InverterDevice] { targets.mapValues { $0.device } }

    /// Reads an observation of every unit concurrently.
    func observe(_ state: DesiredState) async -> [SerialNumber: Result<Observation, DeviceError>] {
        let ordered = state.units.compactMap { targets[$0.serial] }
        let results = await readConcurrently(ordered) { try await Observation.read(from: $0.device) }
        var out: [SerialNumber: Result<Observation, DeviceError>] = [:]
        for (target, result) in zip(ordered, results) {
            if let serial = target.serial { out[serial] = result }
        }
        return out
    }

    /// Adds MCHGCR/MUCHGCR to the observations of units whose plan writes those currents.
    func readCurrentOptions(
        for plans: [Planner.UnitPlan],
        into observations: inout [SerialNumber: Observation]
    )
        async throws(DeviceError)
    {
        for plan in plans {
            guard let device = targets[plan.unit.serial]?.device else { continue }
            for write in plan.writes {
                switch write {
                case .maxChargingCurrent:
                    observations[plan.unit.serial]?.chargingCurrentOptions = try await device.chargingCurrentOptions()
                case .maxUtilityChargingCurrent:
                    observations[plan.unit.serial]?.utilityChargingCurrentOptions =
                        try await device.utilityChargingCurrentOptions()
                default: break
                }
            }
        }
    }
}

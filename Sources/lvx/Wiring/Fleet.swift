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
        // Every unit's options at once: read one after another they would add up their wire times.
        let wanted = plans.compactMap { plan in targets[plan.unit.serial].map { (plan, $0.device) } }
        let options = await concurrently(wanted) { plan, device -> Result<([Int]?, [Int]?), DeviceError> in
            do throws(DeviceError) {
                var charging: [Int]?
                var utility: [Int]?
                for write in plan.writes {
                    switch write {
                    case .maxChargingCurrent: charging = try await device.chargingCurrentOptions()
                    case .maxUtilityChargingCurrent: utility = try await device.utilityChargingCurrentOptions()
                    default: break
                    }
                }
                return .success((charging, utility))
            } catch {
                return .failure(error)
            }
        }
        for ((plan, _), result) in zip(wanted, options) {
            let (charging, utility) = try result.get()
            if let charging { observations[plan.unit.serial]?.chargingCurrentOptions = charging }
            if let utility { observations[plan.unit.serial]?.utilityChargingCurrentOptions = utility }
        }
    }
}

import LVXCore

/// What one read of a unit gives: the plan's observation, and mode and faults when asked for.
public struct UnitReading: Sendable {
    public var observation: Observation
    public var mode: InverterMode?
    public var faults: FaultStatus?

    public init(observation: Observation, mode: InverterMode? = nil, faults: FaultStatus? = nil) {
        self.observation = observation
        self.mode = mode
        self.faults = faults
    }

    /// The unit's dump, as `lvx run` commits it.
    public func dump(_ unit: DesiredUnit, at time: WallTime) -> UnitDump {
        UnitDump(
            name: unit.name,
            serial: observation.serial,
            takenAt: time,
            reachable: true,
            port: observation.port,
            firmware: observation.firmware,
            mode: mode,
            fault: faults?.fault,
            warnings: faults?.activeWarnings ?? [],
            parallelIndex: observation.parallelIndex,
            settings: observation.settings
        )
    }
}

/// The one read path of `plan`, `run` and `apply`: one discovery pass, every unit read at once,
/// the identity checked by the planner, and the current options read for units whose plan (stacks
/// included) writes a current.
public struct UnitReader: Sendable {
    public var connector: any UnitConnector

    public init(connector: any UnitConnector) {
        self.connector = connector
    }

    /// The read of every unit of `state`.
    public struct Fleet: Sendable {
        /// The opened devices, by serial.
        public var devices: [SerialNumber: any InverterDevice]
        /// Each unit's reading, or why it could not be found or read.
        public var readings: [SerialNumber: Result<UnitReading, DeviceError>]

        /// The observations of the units that were read.
        public var observations: [SerialNumber: Observation] {
            readings.compactMapValues { try? $0.get().observation }
        }
    }

    /// Opens and reads every unit of `state` concurrently.
    ///
    /// - Parameters:
    ///   - state: the desired state whose units are read.
    ///   - status: also read `MOD` and `FWS`, for dumps.
    ///   - today: the date the planner decides accepted drift with.
    /// - Returns: the devices and each unit's reading.
    public func read(_ state: DesiredState, status: Bool, today: CivilDate) async -> Fleet {
        var readings: [SerialNumber: Result<UnitReading, DeviceError>] = [:]
        var devices: [SerialNumber: any InverterDevice] = [:]
        for (serial, opened) in await connector.connect(state.units) {
            switch opened {
            case .success(let device): devices[serial] = device
            case .failure(let error): readings[serial] = .failure(error)
            }
        }
        let targets = state.units.compactMap { unit in devices[unit.serial].map { (unit.serial, $0) } }
        let results = await concurrently(targets) { (target: (SerialNumber, any InverterDevice)) in
            do throws(DeviceError) {
                let observation = try await Observation.read(from: target.1)
                guard status else {
                    return Result<UnitReading, DeviceError>.success(UnitReading(observation: observation))
                }
                let mode = try await target.1.workingMode()
                let faults = try await target.1.faultStatus()
                return .success(UnitReading(observation: observation, mode: mode, faults: faults))
            } catch {
                return .failure(error)
            }
        }
        for (target, result) in zip(targets, results) { readings[target.0] = result }
        var fleet = Fleet(devices: devices, readings: readings)
        await addCurrentOptions(to: &fleet, state: state, today: today)
        return fleet
    }

    /// Reads `MCHGCR`/`MUCHGCR` of the units whose plan, stacks included, writes a current.
    func addCurrentOptions(to fleet: inout Fleet, state: DesiredState, today: CivilDate) async {
        let plans = Planner(desired: state, today: today).plan(fleet.observations)
        let wanted = plans.compactMap { plan -> (SerialNumber, Observation.Currents, any InverterDevice)? in
            let currents = Observation.Currents(for: plan.writes)
            guard !currents.isEmpty, let device = fleet.devices[plan.unit.serial] else { return nil }
            return (plan.unit.serial, currents, device)
        }
        // Every unit's options at once: read one after another they would add up their wire times.
        let readings = fleet.readings
        let read = await concurrently(wanted) { item -> Result<Observation, DeviceError>? in
            guard case .success(let reading)? = readings[item.0] else { return nil }
            var observation = reading.observation
            do throws(DeviceError) {
                try await observation.readOptions(item.1, from: item.2)
                return .success(observation)
            } catch {
                return .failure(error)
            }
        }
        for (item, result) in zip(wanted, read) {
            switch result {
            case .success(let observation)?:
                if case .success(var reading)? = fleet.readings[item.0] {
                    reading.observation = observation
                    fleet.readings[item.0] = .success(reading)
                }
            case .failure(let error)?: fleet.readings[item.0] = .failure(error)
            case nil: break
            }
        }
    }
}

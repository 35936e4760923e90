/// What `lvx status` and `lvx sync-check` learn about one unit.
public struct UnitReport: Sendable, Hashable {
    public var port: String
    /// The serial, when it was known or read (`sync-check` does not need it and skips `ID`).
    public var serial: SerialNumber?
    public var firmware: FirmwareVersions
    public var mode: InverterMode
    public var faults: FaultStatus
    public var status: GeneralStatus

    public init(
        port: String,
        serial: SerialNumber?,
        firmware: FirmwareVersions,
        mode: InverterMode,
        faults: FaultStatus,
        status: GeneralStatus
    ) {
        self.port = port
        self.serial = serial
        self.firmware = firmware
        self.mode = mode
        self.faults = faults
        self.status = status
    }

    /// Reads a report: `ID` (only when `identify` and the serial is not already known), `VFW`, `MOD`,
    /// `FWS`, `GS`.
    public static func read(
        from device: some InverterDevice,
        knownSerial: SerialNumber? = nil,
        identify: Bool = true
    )
        async throws(DeviceError) -> UnitReport
    {
        var serial = knownSerial
        if serial == nil && identify {
            serial = try await device.serialNumber()
        }
        return UnitReport(
            port: device.port,
            serial: serial,
            firmware: try await device.firmwareVersions(),
            mode: try await device.workingMode(),
            faults: try await device.faultStatus(),
            status: try await device.generalStatus()
        )
    }

    /// The parallel role as the field notes label it: `instance 0 (master)`, `instance 1`.
    public var parallelRole: String {
        "instance \(status.parallelIndex)" + (status.parallelIndex == 0 ? " (master)" : "")
    }

    /// The report as one JSON object with stable field names.
    public var json: JSONValue {
        .object([
            ("serial", serial.map { .string($0.digits) } ?? .null),
            ("port", .string(port)),
            (
                "firmware",
                .object([
                    ("main", .string(firmware.main)), ("slave1", .string(firmware.slave1)),
                    ("slave2", .string(firmware.slave2)),
                ])
            ),
            ("mode", .object([("code", .string(mode.code)), ("name", .string(mode.name))])),
            ("fault", .object([("code", .string(faults.fault.code)), ("name", .string(faults.fault.name))])),
            ("warnings", .array(faults.activeWarnings.map { .string($0) })),
            ("parallel_index", .int(status.parallelIndex)),
            ("battery_voltage", .decimal(tenths(status.batteryVoltage))),
            ("battery_capacity", .int(status.batteryCapacity)),
            ("battery_charging_current", .int(status.batteryChargingCurrent)),
            ("battery_discharge_current", .int(status.batteryDischargeCurrent)),
            ("ac_output_voltage", .decimal(tenths(status.acOutputVoltage))),
            ("ac_output_frequency", .decimal(tenths(status.acOutputFrequency))),
            ("ac_output_active_power", .int(status.acOutputActivePower)),
            ("pv_input_power", .int(status.pv1InputPower + status.pv2InputPower)),
        ])
    }
}

/// Formats tenths as a decimal: `551` -> `55.1`.
public func tenths(_ value: Int) -> String {
    SettingKey.floatVoltage.format(SettingValue(raw: value))
}

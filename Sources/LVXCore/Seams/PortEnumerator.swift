/// Lists the ports an inverter might be attached to, so units can be found by serial number.
///
/// The real implementation enumerates hidraw nodes of the inverters' USB vendor and product;
/// tests inject a fixed list. Listing is cheap and opens nothing: probing is the caller's job.
public protocol PortEnumerator: Sendable {
    /// Port strings worth probing, such as `hidraw:/dev/hidraw0`; empty when there are none.
    ///
    /// - Throws: when the system cannot be asked (the caller notes it and carries on with the
    ///   ports it was given explicitly).
    func candidatePorts() throws -> [String]
}

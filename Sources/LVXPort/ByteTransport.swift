import LVXCore

/// A byte pipe to one inverter: open, drain, write one request frame, read one reply.
///
/// Implementations are not thread-safe; one transport belongs to one ``PI18Client``, which uses it
/// only from its own thread. Every blocking step takes a deadline and waits with `poll()`.
public protocol ByteTransport: AnyObject {
    /// The address this transport talks to.
    var address: PortAddress { get }
    /// Whether the port is currently open.
    var isOpen: Bool { get }
    /// Opens and configures the port; does nothing when it is already open.
    ///
    /// - Throws: ``TransportError`` of kind `open` when the port cannot be opened, configured or
    ///   connected before `deadline`.
    func open(deadline: Deadline) throws(TransportError)
    /// Closes the port; harmless when it is closed.
    func close()
    /// Discards everything already received: stale replies, late reports, noise.
    func drain() throws(TransportError)
    /// Writes one complete request frame before `deadline`.
    func write(_ frame: [UInt8], deadline: Deadline) throws(TransportError)
    /// Reads up to and including the first CR (0x0D) before `deadline`.
    ///
    /// Bytes that arrive after that CR (hidraw padding, noise) are kept only until the next
    /// ``drain()``; they are never part of the returned reply.
    /// - Throws: ``TransportError`` of kind `timeout` if no CR arrived in time.
    func readReply(deadline: Deadline) throws(TransportError) -> [UInt8]
}

extension PortAddress {
    /// A new, closed transport of the kind this address names.
    public func makeTransport() -> any ByteTransport {
        switch self {
        case .hidraw(let path): HidrawTransport(path: path)
        case .serial(let path, let baud): SerialTransport(path: path, baud: baud)
        case .tcp(let host, let port): TCPTransport(host: host, port: port)
        }
    }
}

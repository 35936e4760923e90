import Foundation
import LVXCore

#if canImport(Glibc)
    import Glibc
#endif

/// The byte layout of Linux's `/dev/uhid` protocol (`linux/uhid.h`), as far as a simulated
/// inverter needs it: create a device, receive its output reports, send input reports, answer
/// GET_REPORT/SET_REPORT so callers do not block, destroy it.
///
/// Every event is one packed `struct uhid_event` of ``eventSize`` bytes: a little-endian `u32`
/// type, then the type's payload. Pure functions only, so the framing is tested without a kernel.
enum UHIDProtocol {
    static let eventSize = 4376
    static let destroy: UInt32 = 1
    static let start: UInt32 = 2
    static let stop: UInt32 = 3
    static let open: UInt32 = 4
    static let close: UInt32 = 5
    static let output: UInt32 = 6
    static let getReport: UInt32 = 9
    static let getReportReply: UInt32 = 10
    static let create2: UInt32 = 11
    static let input2: UInt32 = 12
    static let setReport: UInt32 = 13
    static let setReportReply: UInt32 = 14

    /// BUS_USB: the device is a USB HID device to hidraw, so its HID name is `0003:0665:5161.NNNN`.
    static let busUSB: UInt16 = 0x03
    /// The size of one HID report on these inverters.
    static let reportSize = 8

    /// A vendor-page report descriptor with one 8-byte input and one 8-byte output report and no
    /// report ID, like the inverter's Cypress bridge.
    static let reportDescriptor: [UInt8] = [
        0x06, 0x00, 0xFF,  // Usage Page (Vendor 0xFF00)
        0x09, 0x01,  // Usage (1)
        0xA1, 0x01,  // Collection (Application)
        0x15, 0x00,  //   Logical Minimum (0)
        0x26, 0xFF, 0x00,  //   Logical Maximum (255)
        0x75, 0x08,  //   Report Size (8)
        0x95, 0x08,  //   Report Count (8)
        0x09, 0x01,  //   Usage (1)
        0x81, 0x02,  //   Input (Data, Var, Abs)
        0x95, 0x08,  //   Report Count (8)
        0x09, 0x01,  //   Usage (1)
        0x91, 0x02,  //   Output (Data, Var, Abs)
        0xC0,  // End Collection
    ]

    /// What the kernel sent, decoded.
    enum Event: Equatable {
        /// A client wrote an output report to the hidraw node.
        case output([UInt8])
        /// A client asked for a report by ioctl; must be answered with the same `id`.
        case getReport(id: UInt32)
        /// A client sent a feature report by ioctl; must be answered with the same `id`.
        case setReport(id: UInt32)
        /// START, STOP, OPEN, CLOSE and anything else: nothing to answer.
        case other(UInt32)
    }

    /// UHID_CREATE2 for a USB device `vendor:product` whose `uniq` (HID_UNIQ) is the unit's serial.
    static func create(name: String, physical: String, uniq: String, vendor: UInt32, product: UInt32) -> [UInt8] {
        var event: [UInt8] = []
        event.reserveCapacity(eventSize)
        put(create2, into: &event)
        event += fixed(name, 128)
        event += fixed(physical, 64)
        event += fixed(uniq, 64)
        put(UInt16(reportDescriptor.count), into: &event)
        put(busUSB, into: &event)
        put(vendor, into: &event)
        put(product, into: &event)
        put(UInt32(0x0100), into: &event)  // version
        put(UInt32(0), into: &event)  // country
        event += reportDescriptor
        event += [UInt8](repeating: 0, count: eventSize - event.count)
        return event
    }

    /// UHID_DESTROY.
    static func destroyEvent() -> [UInt8] {
        var event: [UInt8] = []
        put(destroy, into: &event)
        return event
    }

    /// Decodes one event read from `/dev/uhid`; `nil` when it is too short to hold its type.
    static func decode(_ bytes: [UInt8]) -> Event? {
        guard bytes.count >= 4 else { return nil }
        switch u32(bytes, 0) {
        case output:
            // struct uhid_output_req { __u8 data[4096]; __u16 size; __u8 rtype; }
            guard bytes.count >= 4 + 4096 + 3 else { return nil }
            let size = min(Int(u16(bytes, 4 + 4096)), 4096)
            return .output(reportPayload(Array(bytes[4..<(4 + size)])))
        case getReport:
            guard bytes.count >= 8 else { return nil }
            return .getReport(id: u32(bytes, 4))
        case setReport:
            guard bytes.count >= 8 else { return nil }
            return .setReport(id: u32(bytes, 4))
        case let other:
            return .other(other)
        }
    }

    /// The bytes of one output report as the inverter's firmware sees them.
    ///
    /// usbhid strips a leading report-ID byte 0x00 when a client writes 9 bytes to a device without report IDs; uhid passes
    /// all 9 through, so it is stripped here.
    static func reportPayload(_ data: [UInt8]) -> [UInt8] {
        if data.count == reportSize + 1 && data.first == 0x00 { return Array(data.dropFirst()) }
        return data
    }

    /// The UHID_INPUT2 events that carry `bytes` to the hidraw node: 8-byte reports, the last
    /// padded with 0x00.
    static func inputEvents(_ bytes: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: reportSize).map { start in
            var report = Array(bytes[start..<min(start + reportSize, bytes.count)])
            report += [UInt8](repeating: 0, count: reportSize - report.count)
            var event: [UInt8] = []
            put(input2, into: &event)
            put(UInt16(reportSize), into: &event)
            return event + report
        }
    }

    /// UHID_GET_REPORT_REPLY with an error (EIO): the inverter has no reports to fetch by ioctl.
    static func getReportReply(id: UInt32) -> [UInt8] {
        var event: [UInt8] = []
        put(getReportReply, into: &event)
        put(id, into: &event)
        put(UInt16(EIO), into: &event)
        put(UInt16(0), into: &event)
        return event
    }

    /// UHID_SET_REPORT_REPLY, success.
    static func setReportReply(id: UInt32) -> [UInt8] {
        var event: [UInt8] = []
        put(setReportReply, into: &event)
        put(id, into: &event)
        put(UInt16(0), into: &event)
        return event
    }

    private static func fixed(_ text: String, _ size: Int) -> [UInt8] {
        let bytes = Array(text.utf8.prefix(size - 1))
        return bytes + [UInt8](repeating: 0, count: size - bytes.count)
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    private static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
}

/// A simulated inverter registered with the kernel through `/dev/uhid`: a real `/dev/hidrawN` node
/// (HID name `0003:0665:5161.NNNN`, HID_UNIQ the unit's serial) whose reports come here.
final class UHIDDevice: Sendable {
    let descriptor: Descriptor
    /// The hidraw node the kernel made, such as `/dev/hidraw0`.
    let node: String

    /// Creates the device and waits (up to `timeout` seconds) for its hidraw node to appear.
    init(serial: SerialNumber, timeout: Double = 10) throws(SimulatorError) {
        let fd = Glibc.open("/dev/uhid", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw SimulatorError("cannot open /dev/uhid: \(errnoText()) (needs root, or the uhid module)")
        }
        descriptor = Descriptor(fd)
        let create = UHIDProtocol.create(
            name: "lvx-sim LVX6048 \(serial.digits)",
            physical: "lvx-sim/uhid/\(serial.digits)",
            uniq: serial.digits,
            vendor: 0x0665,
            product: 0x5161
        )
        guard descriptor.writeAll(create, socket: false) else {
            throw SimulatorError("cannot create the uhid device for \(serial.digits): \(errnoText())")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var found: String?
        while found == nil {
            found = Self.hidrawNode(uniq: serial.digits)
            if found != nil || Date() > deadline { break }
            usleep(50_000)
        }
        guard let found else {
            throw SimulatorError("uhid device for \(serial.digits) made no hidraw node within \(Int(timeout)) s")
        }
        node = found
        try descriptor.setNonBlocking()
    }

    /// The `/dev/hidrawN` whose HID parent is a 0665:5161 device with HID_UNIQ `uniq`.
    static func hidrawNode(uniq: String) -> String? {
        let base = "/sys/class/hidraw"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return nil }
        for name in names.sorted() {
            guard let uevent = try? String(contentsOfFile: "\(base)/\(name)/device/uevent", encoding: .utf8) else {
                continue
            }
            let lines = Set(uevent.split(separator: "\n").map(String.init))
            if lines.contains("HID_ID=0003:00000665:00005161") && lines.contains("HID_UNIQ=\(uniq)") {
                return "/dev/\(name)"
            }
        }
        return nil
    }

    /// Reads every pending event (non-blocking); `nil` when the descriptor failed.
    func readEvents() -> [UHIDProtocol.Event]? {
        var events: [UHIDProtocol.Event] = []
        var buffer = [UInt8](repeating: 0, count: UHIDProtocol.eventSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if let event = UHIDProtocol.decode(Array(buffer[0..<n])) { events.append(event) }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return events }
            return events.isEmpty ? nil : events
        }
    }

    /// Sends `bytes` as input reports.
    func send(_ bytes: [UInt8]) {
        for event in UHIDProtocol.inputEvents(bytes) { descriptor.writeAll(event, socket: false) }
    }

    /// Answers an ioctl request so the client does not wait for the kernel's timeout.
    func answer(_ event: UHIDProtocol.Event) {
        switch event {
        case .getReport(let id): descriptor.writeAll(UHIDProtocol.getReportReply(id: id), socket: false)
        case .setReport(let id): descriptor.writeAll(UHIDProtocol.setReportReply(id: id), socket: false)
        default: break
        }
    }

    /// Removes the device: the kernel deletes its hidraw node and fails the clients that hold it open.
    func destroy() { descriptor.writeAll(UHIDProtocol.destroyEvent(), socket: false) }

    deinit { destroy() }
}

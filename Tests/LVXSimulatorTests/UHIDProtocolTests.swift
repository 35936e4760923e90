import Testing

@testable import LVXSimulator

@Suite("The uhid transport frames reports as usbhid does, without a kernel")
struct UHIDProtocolTests {
    /// An UHID_OUTPUT event as the kernel writes it: type, 4096 data bytes, u16 size, u8 rtype.
    private func outputEvent(_ data: [UInt8]) -> [UInt8] {
        var event: [UInt8] = [6, 0, 0, 0] + data
        event += [UInt8](repeating: 0, count: 4 + 4096 - event.count)
        event += [UInt8(data.count & 0xFF), UInt8(data.count >> 8), 1]
        return event + [UInt8](repeating: 0, count: UHIDProtocol.eventSize - event.count)
    }

    @Test("an 8-byte output report arrives unchanged")
    func eightBytes() {
        let report: [UInt8] = Array("^P005GS".utf8) + [0x0D]
        #expect(UHIDProtocol.decode(outputEvent(report)) == .output(report))
    }

    @Test("a 9-byte write with a leading report ID 0x00 loses that byte, as usbhid strips it")
    func leadingZeroStripped() {
        let report: [UInt8] = [0x00] + Array("^P005GS".utf8) + [0x0D]
        #expect(UHIDProtocol.reportPayload(report) == Array(report.dropFirst()))
        #expect(UHIDProtocol.decode(outputEvent(report)) == .output(Array(report.dropFirst())))
    }

    @Test("other lengths and a non-zero first byte are kept as written")
    func keptAsWritten() {
        let nine: [UInt8] = [0x5E] + [UInt8](repeating: 0x41, count: 8)
        #expect(UHIDProtocol.reportPayload(nine) == nine)
        let short: [UInt8] = [0x00, 0x41, 0x0D]
        #expect(UHIDProtocol.reportPayload(short) == short)
    }

    @Test("a reply leaves as 8-byte UHID_INPUT2 reports, the last padded with 0x00")
    func inputReports() {
        let reply = Array("^D0251234567890".utf8) + [0xAB, 0xCD, 0x0D]  // 18 bytes: 3 reports
        let events = UHIDProtocol.inputEvents(reply)
        #expect(events.count == 3)
        for event in events {
            #expect(event.count == 4 + 2 + 8)
            #expect(Array(event[0..<6]) == [12, 0, 0, 0, 8, 0])
        }
        #expect(events.flatMap { $0[6...] } == reply + [0, 0, 0, 0, 0, 0])
    }

    @Test("UHID_CREATE2 names a USB device 0665:5161 with the serial as uniq and no report ID")
    func create() {
        let event = UHIDProtocol.create(
            name: "lvx-sim",
            physical: "p",
            uniq: "96142109100037",
            vendor: 0x0665,
            product: 0x5161
        )
        #expect(event.count == UHIDProtocol.eventSize)
        #expect(Array(event[0..<4]) == [11, 0, 0, 0])
        let uniq = event[(4 + 128 + 64)..<(4 + 128 + 64 + 14)]
        #expect(Array(uniq) == Array("96142109100037".utf8))
        let at = 4 + 128 + 64 + 64
        #expect(Int(event[at]) == UHIDProtocol.reportDescriptor.count)  // rd_size
        // bus, vendor, product
        #expect(Array(event[(at + 2)..<(at + 12)]) == [0x03, 0, 0x65, 0x06, 0, 0, 0x61, 0x51, 0, 0])
        #expect(!UHIDProtocol.reportDescriptor.contains(0x85))  // no Report ID item
    }

    @Test("GET_REPORT and SET_REPORT are decoded with their id and answered")
    func ioctlRequests() {
        let get: [UInt8] = [9, 0, 0, 0, 7, 0, 0, 0, 0, 0]
        #expect(UHIDProtocol.decode(get) == .getReport(id: 7))
        #expect(Array(UHIDProtocol.getReportReply(id: 7)[0..<8]) == [10, 0, 0, 0, 7, 0, 0, 0])
        let set: [UInt8] = [13, 0, 0, 0, 9, 0, 0, 0, 0, 0]
        #expect(UHIDProtocol.decode(set) == .setReport(id: 9))
        #expect(UHIDProtocol.decode([2, 0, 0, 0]) == .other(2))
        #expect(UHIDProtocol.decode([2, 0]) == nil)
    }
}

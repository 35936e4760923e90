import LVXCore
import Testing

@testable import LVXSystemd

@Suite struct HidrawEnumeratorTests {
    @Test("on a machine without hidraw devices the enumeration is empty, not an error")
    func emptyHere() throws {
        // /sys/class/hidraw exists but is empty on the build machines; sd-device must still work.
        let ports = try HidrawEnumerator().candidatePorts()
        #expect(ports.isEmpty)
        let enumerator: any PortEnumerator = HidrawEnumerator()
        #expect(try enumerator.candidatePorts().isEmpty)
    }

    @Test(
        "only the inverters' USB vendor and product ids match",
        arguments: [
            ("0665", "5161", true),
            ("0665\n", " 5161", true),
            ("0665", "5162", false),
            ("0666", "5161", false),
            ("046d", "c52b", false),
        ]
    )
    func vendorProductFilter(vendor: String, product: String, matches: Bool) {
        #expect(HidrawEnumerator().matches(idVendor: vendor, idProduct: product) == matches)
    }

    @Test("a node without a USB parent never matches; other ids can be configured, case-insensitively")
    func filterEdges() {
        #expect(!HidrawEnumerator().matches(idVendor: nil, idProduct: "5161"))
        #expect(!HidrawEnumerator().matches(idVendor: "0665", idProduct: nil))
        #expect(HidrawEnumerator(vendorID: "1A86", productID: "7523").matches(idVendor: "1a86", idProduct: "7523"))
    }

    @Test("selection keeps matching nodes as hidraw: ports in node-number order")
    func selection() {
        let nodes = [
            HidrawEnumerator.Node(devnode: "/dev/hidraw10", idVendor: "0665", idProduct: "5161"),
            HidrawEnumerator.Node(devnode: "/dev/hidraw3", idVendor: "046d", idProduct: "c52b"),
            HidrawEnumerator.Node(devnode: "/dev/hidraw2", idVendor: "0665", idProduct: "5161"),
            HidrawEnumerator.Node(devnode: nil, idVendor: "0665", idProduct: "5161"),
            HidrawEnumerator.Node(devnode: "/dev/hidraw4", idVendor: nil, idProduct: nil),
            HidrawEnumerator.Node(devnode: "/dev/hidraw2", idVendor: "0665", idProduct: "5161"),
        ]
        #expect(HidrawEnumerator().select(nodes) == ["hidraw:/dev/hidraw2", "hidraw:/dev/hidraw10"])
        #expect(HidrawEnumerator().select([]) == [])
    }

    @Test("a node without a USB parent (uhid) is judged by its HID parent's HID_ID on the USB bus")
    func hidID() {
        let ids = HidrawEnumerator.usbIDs(hidID: "0003:00000665:00005161")
        #expect(ids?.vendor == "0665" && ids?.product == "5161")
        #expect(HidrawEnumerator.usbIDs(hidID: "0003:0000046D:0000C52B")?.vendor == "046d")
        #expect(HidrawEnumerator.usbIDs(hidID: "0005:00000665:00005161") == nil)  // Bluetooth
        #expect(HidrawEnumerator.usbIDs(hidID: "0003:00000665") == nil)
        #expect(HidrawEnumerator.usbIDs(hidID: "0003:00010665:00005161") == nil)
        #expect(HidrawEnumerator.usbIDs(hidID: "") == nil)
    }

    @Test("an sd-device failure names the function and the errno")
    func errorText() {
        let error = HidrawEnumerationError(function: "sd_device_enumerator_new", errno: 12)
        #expect(
            error.description
                == "cannot list hidraw devices: sd_device_enumerator_new: cannot allocate memory (errno 12)"
        )
    }
}

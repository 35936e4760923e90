internal import CSystemd
import Glibc
import LVXCore

/// Finds the hidraw nodes of PI18 inverters with libsystemd's sd-device: the real ``PortEnumerator``.
///
/// Enumerates subsystem `hidraw`, including devices udev has not initialised (there may be no
/// udev database), and keeps the nodes whose USB parent device has the inverters' vendor and
/// product ids (`0665:5161`, the Cypress USB-to-serial bridge these inverters use). A node without
/// a USB parent (a device made through `/dev/uhid`, as the system test's simulator does) is judged
/// by its HID parent's `HID_ID` instead, when that names the USB bus. Each is
/// returned as `hidraw:/dev/hidrawN`, in node-number order. Nothing is opened.
public struct HidrawEnumerator: PortEnumerator {
    /// The USB vendor id to keep, four hex digits as sysfs spells it (`idVendor`).
    public var vendorID: String
    /// The USB product id to keep, four hex digits as sysfs spells it (`idProduct`).
    public var productID: String

    /// An enumerator for `vendorID:productID`, by default the inverters' `0665:5161`.
    public init(vendorID: String = "0665", productID: String = "5161") {
        self.vendorID = vendorID
        self.productID = productID
    }

    /// What sd-device reported about one hidraw node.
    public struct Node: Sendable, Equatable {
        /// The device node, such as `/dev/hidraw0`; `nil` when sd-device knows none.
        public var devnode: String?
        /// The USB parent's `idVendor`, or `nil` when the node has no USB parent.
        public var idVendor: String?
        /// The USB parent's `idProduct`, or `nil` when the node has no USB parent.
        public var idProduct: String?

        public init(devnode: String?, idVendor: String?, idProduct: String?) {
            self.devnode = devnode
            self.idVendor = idVendor
            self.idProduct = idProduct
        }
    }

    /// The port strings of the inverter hidraw nodes present now; empty when there are none.
    ///
    /// - Throws: ``HidrawEnumerationError`` naming the sd-device function that failed.
    public func candidatePorts() throws(HidrawEnumerationError) -> [String] {
        select(try Self.hidrawNodes())
    }

    /// Whether a USB device with these sysfs ids is an inverter (case and whitespace ignored).
    public func matches(idVendor: String?, idProduct: String?) -> Bool {
        guard let idVendor, let idProduct else { return false }
        return Self.normalised(idVendor) == Self.normalised(vendorID)
            && Self.normalised(idProduct) == Self.normalised(productID)
    }

    /// The port strings for the matching nodes, sorted by node number (`hidraw2` before `hidraw10`).
    public func select(_ nodes: [Node]) -> [String] {
        let paths = nodes.compactMap { node -> String? in
            guard let devnode = node.devnode, matches(idVendor: node.idVendor, idProduct: node.idProduct) else {
                return nil
            }
            return devnode
        }
        let unique = Array(Set(paths))
        return unique.sorted { Self.sortKey($0) < Self.sortKey($1) }.map { "hidraw:" + $0 }
    }

    private static func normalised(_ id: String) -> String {
        id.filter { !$0.isWhitespace }.lowercased()
    }

    private static func sortKey(_ path: String) -> (String, Int, String) {
        let digits = path.reversed().prefix { $0.isNumber }
        let stem = String(path.dropLast(digits.count))
        return (stem, Int(String(digits.reversed())) ?? -1, path)
    }

    /// Every hidraw device sd-device can see, with its USB parent's ids.
    ///
    /// The corresponding C functions are `sd_device_enumerator_new`,
    /// `sd_device_enumerator_allow_uninitialized`, `sd_device_enumerator_add_match_subsystem`,
    /// `sd_device_enumerator_get_device_first`/`_next`, `sd_device_get_devname`,
    /// `sd_device_get_parent_with_subsystem_devtype` and `sd_device_get_sysattr_value`.
    static func hidrawNodes() throws(HidrawEnumerationError) -> [Node] {
        let enumerator = try DeviceEnumerator()
        try enumerator.prepare(subsystem: "hidraw")
        return enumerator.withUnsafeHandle { handle in
            var nodes: [Node] = []
            var device = sd_device_enumerator_get_device_first(handle)
            while let current = device {
                var parent: OpaquePointer?
                let hasUSBParent =
                    sd_device_get_parent_with_subsystem_devtype(current, "usb", "usb_device", &parent) >= 0
                let usb = hasUSBParent ? parent : nil
                var node = Node(
                    devnode: string { sd_device_get_devname(current, &$0) },
                    idVendor: usb.flatMap { usb in string { sd_device_get_sysattr_value(usb, "idVendor", &$0) } },
                    idProduct: usb.flatMap { usb in string { sd_device_get_sysattr_value(usb, "idProduct", &$0) } }
                )
                var hid: OpaquePointer?
                if usb == nil, sd_device_get_parent_with_subsystem_devtype(current, "hid", nil, &hid) >= 0, let hid,
                    let ids = string({ sd_device_get_property_value(hid, "HID_ID", &$0) }).flatMap(usbIDs(hidID:))
                {
                    node.idVendor = ids.vendor
                    node.idProduct = ids.product
                }
                nodes.append(node)
                device = sd_device_enumerator_get_device_next(handle)
            }
            return nodes
        }
    }

    /// The USB vendor and product ids in a HID device's `HID_ID` (`BUS:VENDOR:PRODUCT`, eight hex
    /// digits each, such as `0003:00000665:00005161`), as four hex digits each; `nil` unless the bus
    /// is USB (0003).
    static func usbIDs(hidID: String) -> (vendor: String, product: String)? {
        let parts = hidID.split(separator: ":")
        guard parts.count == 3, UInt32(parts[0], radix: 16) == 3,
            let vendor = UInt32(parts[1], radix: 16), let product = UInt32(parts[2], radix: 16),
            vendor <= 0xFFFF, product <= 0xFFFF
        else { return nil }
        func hex(_ value: UInt32) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 4 - digits.count) + digits
        }
        return (hex(vendor), hex(product))
    }

    /// Calls a getter that fills a borrowed C string; `nil` on a negative return.
    private static func string(_ getter: (inout UnsafePointer<CChar>?) -> Int32) -> String? {
        var value: UnsafePointer<CChar>?
        guard getter(&value) >= 0, let value else { return nil }
        return String(cString: value)
    }
}

/// An sd-device call that failed while listing hidraw nodes.
public struct HidrawEnumerationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function, such as `sd_device_enumerator_new`.
    public var function: String
    /// The errno value (the function returned its negation).
    public var errno: Int32

    public init(function: String, errno: Int32) {
        self.function = function
        self.errno = errno
    }

    public var description: String {
        let text = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return "cannot list hidraw devices: \(function): " + text.prefix(1).lowercased() + text.dropFirst()
            + " (errno \(errno))"
    }
}

/// The one owner of an `sd_device_enumerator`, released in `deinit`.
///
/// Devices returned by the enumerator (and their parents) are borrowed from it and live only as
/// long as it does; they never escape ``withUnsafeHandle(_:)``.
private final class DeviceEnumerator {
    private let handle: OpaquePointer

    init() throws(HidrawEnumerationError) {
        var created: OpaquePointer?
        try Self.check(sd_device_enumerator_new(&created), "sd_device_enumerator_new")
        guard let created else { throw HidrawEnumerationError(function: "sd_device_enumerator_new", errno: ENOMEM) }
        handle = created
    }

    deinit {
        sd_device_enumerator_unref(handle)
    }

    /// Matches `subsystem` and admits devices udev has not initialised.
    func prepare(subsystem: String) throws(HidrawEnumerationError) {
        try Self.check(sd_device_enumerator_allow_uninitialized(handle), "sd_device_enumerator_allow_uninitialized")
        try Self.check(
            sd_device_enumerator_add_match_subsystem(handle, subsystem, 1),
            "sd_device_enumerator_add_match_subsystem"
        )
    }

    /// Runs `body` with the raw handle; do not let the handle or any device from it escape.
    func withUnsafeHandle<T>(_ body: (OpaquePointer) -> T) -> T {
        body(handle)
    }

    /// The funnel: a negative return is `-errno`.
    private static func check(_ result: Int32, _ function: String) throws(HidrawEnumerationError) {
        if result < 0 { throw HidrawEnumerationError(function: function, errno: -result) }
    }
}

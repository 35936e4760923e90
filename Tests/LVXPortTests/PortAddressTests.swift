import Testing

@testable import LVXPort

@Suite struct PortAddressTests {
    @Test(
        "accepted port strings and their canonical form",
        arguments: [
            ("/dev/hidraw0", PortAddress.hidraw(path: "/dev/hidraw0"), "hidraw:/dev/hidraw0"),
            ("hidraw:/dev/hidraw12", .hidraw(path: "/dev/hidraw12"), "hidraw:/dev/hidraw12"),
            ("hidraw:/dev/pts/3", .hidraw(path: "/dev/pts/3"), "hidraw:/dev/pts/3"),
            ("serial:/dev/ttyUSB0", .serial(path: "/dev/ttyUSB0", baud: 2400), "serial:/dev/ttyUSB0"),
            ("serial:/dev/ttyS1?baud=9600", .serial(path: "/dev/ttyS1", baud: 9600), "serial:/dev/ttyS1?baud=9600"),
            ("/dev/ttyUSB0", .serial(path: "/dev/ttyUSB0", baud: 2400), "serial:/dev/ttyUSB0"),
            ("/dev/pts/7?baud=115200", .serial(path: "/dev/pts/7", baud: 115_200), "serial:/dev/pts/7?baud=115200"),
            ("/dev/hidrawx", .serial(path: "/dev/hidrawx", baud: 2400), "serial:/dev/hidrawx"),
            ("tcp://10.0.0.5:8899", .tcp(host: "10.0.0.5", port: 8899), "tcp://10.0.0.5:8899"),
            ("tcp://bridge.local:23", .tcp(host: "bridge.local", port: 23), "tcp://bridge.local:23"),
            ("tcp://[::1]:5000", .tcp(host: "::1", port: 5000), "tcp://[::1]:5000"),
            ("  serial:/dev/ttyUSB1  ", .serial(path: "/dev/ttyUSB1", baud: 2400), "serial:/dev/ttyUSB1"),
        ]
    )
    func accepted(text: String, expected: PortAddress, canonical: String) throws {
        let address = try PortAddress(parsing: text)
        #expect(address == expected)
        #expect(address.description == canonical)
        #expect(try PortAddress(parsing: canonical) == expected)
    }

    @Test(
        "rejected port strings name the string, the reason and the accepted forms",
        arguments: [
            ("", "it is empty"),
            ("COM3", "neither a device path"),
            ("ttyUSB0", "neither a device path"),
            ("serial:ttyUSB0", "must be absolute"),
            ("serial:/dev/ttyUSB0?baud=2401", "baud '2401' is not one of"),
            ("serial:/dev/ttyUSB0?baud=fast", "baud 'fast'"),
            ("serial:/dev/ttyUSB0?parity=even", "the only serial option is ?baud=N"),
            ("hidraw:dev/hidraw0", "must be absolute"),
            ("hidraw:/dev/hidraw0?baud=9600", "hidraw ports take no options"),
            ("/dev/hidraw0?baud=9600", "hidraw ports take no options"),
            ("tcp://host", "port number is missing"),
            ("tcp://:8899", "the host is empty"),
            ("tcp://host:0", "not a port number"),
            ("tcp://host:70000", "not a port number"),
            ("tcp://::1:80", "must be written in brackets"),
            ("tcp://[::1:80", "no closing ']'"),
            ("udp://host:1", "only tcp://"),
        ]
    )
    func rejected(text: String, reason: String) {
        #expect {
            try PortAddress(parsing: text)
        } throws: { error in
            guard let error = error as? PortAddressError else { return false }
            let message = error.description
            return message.hasPrefix("port '\(text)' is not valid: ") && message.contains(reason)
                && message.contains("/dev/hidrawN, hidraw:PATH, serial:PATH[?baud=N]")
                && message.contains("tcp://HOST:PORT")
        }
    }

    @Test("a comma-separated list is trimmed, skips empty entries and drops duplicates")
    func list() throws {
        let ports = try PortAddress.parseList(
            " /dev/hidraw0, ,serial:/dev/ttyUSB0?baud=9600,hidraw:/dev/hidraw0,tcp://h:1 "
        )
        #expect(
            ports == [
                .hidraw(path: "/dev/hidraw0"), .serial(path: "/dev/ttyUSB0", baud: 9600), .tcp(host: "h", port: 1),
            ]
        )
        #expect(try PortAddress.parseList("").isEmpty)
        #expect(
            throws: PortAddressError(
                text: "nope",
                reason: "it is neither a device path nor a hidraw:, serial: or tcp:// port"
            )
        ) {
            try PortAddress.parseList("/dev/hidraw0,nope")
        }
    }
}

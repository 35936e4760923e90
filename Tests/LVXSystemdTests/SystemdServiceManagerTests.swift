import Foundation
import LVXCore
import LVXSystemd
import Testing

/// `SystemdServiceManager` against a real private `dbus-daemon` and a stand-in systemd manager.
@Suite(.serialized)
struct SystemdServiceManagerTests {
    @Test("stopping two active units stops both, in order, after subscribing, and returns both")
    func stopsActiveUnitsInOrder() async throws {
        let bus = try FakeSystemd(units: ["a.service": .init(), "b.service": .init()])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let stopped = try await manager.stop(["a.service", "b.service"])

        #expect(stopped == ["a.service", "b.service"])
        #expect(bus.jobCalls() == ["StopUnit a.service replace", "StopUnit b.service replace"])
        let names = bus.calls().compactMap(\.first)
        let subscribe = try #require(names.firstIndex(of: "Subscribe"))
        let firstStop = try #require(names.firstIndex(of: "StopUnit"))
        #expect(subscribe < firstStop)
        // Each stop returned only after its job was removed.
        let order = names.filter { $0 == "StopUnit" || $0 == "JobRemoved" }
        #expect(order == ["StopUnit", "JobRemoved", "StopUnit", "JobRemoved"])
        #expect(try await manager.activeState(of: "a.service") == "inactive")
        #expect(try await manager.activeState(of: "b.service") == "inactive")
    }

    @Test("inactive, failed and unknown units get no StopUnit and are not returned")
    func leavesStoppedAndUnknownUnitsAlone() async throws {
        let bus = try FakeSystemd(units: [
            "idle.service": .init(state: "inactive"),
            "broken.service": .init(state: "failed"),
        ])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let stopped = try await manager.stop(["idle.service", "ghost.service", "broken.service"])

        #expect(stopped == [])
        #expect(bus.jobCalls() == [])
        #expect(
            bus.calls().filter { $0.first == "GetUnit" }.map { $0[1] } == [
                "idle.service", "ghost.service", "broken.service",
            ]
        )
        #expect(try await manager.activeState(of: "ghost.service") == nil)
    }

    @Test("only the running units of a mixed list are stopped and returned")
    func stopsOnlyRunningUnits() async throws {
        let bus = try FakeSystemd(units: [
            "a.service": .init(),
            "b.service": .init(state: "inactive"),
            "c.service": .init(state: "activating"),
        ])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let stopped = try await manager.stop(["a.service", "b.service", "c.service"])

        #expect(stopped == ["a.service", "c.service"])
        #expect(bus.jobCalls() == ["StopUnit a.service replace", "StopUnit c.service replace"])
    }

    @Test("a deactivating unit is waited for but not returned, so it is not restarted")
    func waitsForDeactivatingUnitWithoutReturningIt() async throws {
        let bus = try FakeSystemd(units: ["going.service": .init(state: "deactivating")])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let stopped = try await manager.stop(["going.service"])

        #expect(stopped == [])
        #expect(bus.jobCalls() == ["StopUnit going.service replace"])
    }

    @Test("start sends StartUnit for each unit in order and waits for the jobs")
    func startsUnits() async throws {
        let bus = try FakeSystemd(units: [
            "a.service": .init(state: "inactive"),
            "b.service": .init(state: "inactive"),
        ])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        try await manager.start(["a.service", "b.service"])

        #expect(bus.jobCalls() == ["StartUnit a.service replace", "StartUnit b.service replace"])
        #expect(try await manager.activeState(of: "a.service") == "active")
        #expect(try await manager.activeState(of: "b.service") == "active")
    }

    @Test("a stop job that ends 'failed' names the unit, and units already stopped are started again")
    func failedStopJobRestartsWhatWasStopped() async throws {
        let bus = try FakeSystemd(units: ["a.service": .init(), "b.service": .init(stopResult: "failed")])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let error = await #expect(throws: ServiceError.self) {
            try await manager.stop(["a.service", "b.service"])
        }

        #expect(error?.unit == "b.service")
        #expect(
            error?.message.contains("StopUnit job /org/freedesktop/systemd1/job/2 ended with result 'failed'") == true
        )
        #expect(error?.message.contains("started a.service again") == true)
        #expect(
            bus.jobCalls() == [
                "StopUnit a.service replace", "StopUnit b.service replace", "StartUnit a.service replace",
            ]
        )
    }

    @Test("a start job that fails names the unit and the other units are still started")
    func failedStartJobStillStartsTheRest() async throws {
        let bus = try FakeSystemd(units: [
            "a.service": .init(state: "inactive", startResult: "failed"),
            "b.service": .init(state: "inactive"),
        ])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let error = await #expect(throws: ServiceError.self) {
            try await manager.start(["a.service", "b.service"])
        }

        #expect(error?.unit == "a.service")
        #expect(error?.message.contains("StartUnit job") == true)
        #expect(error?.message.contains("'failed'") == true)
        #expect(bus.jobCalls() == ["StartUnit a.service replace", "StartUnit b.service replace"])
    }

    @Test("a D-Bus error from StopUnit is reported with its name and message")
    func methodErrorIsReported() async throws {
        let bus = try FakeSystemd(units: ["a.service": .init(stopError: "org.freedesktop.DBus.Error.AccessDenied")])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let error = await #expect(throws: ServiceError.self) {
            try await manager.stop(["a.service"])
        }

        #expect(error?.unit == "a.service")
        #expect(
            error?.message
                == "StopUnit failed: org.freedesktop.DBus.Error.AccessDenied: stop refused by the stand-in; "
                + "run lvx as root or allow it to manage this unit"
        )
    }

    @Test("a job that ends before StopUnit's reply arrives is not missed")
    func jobRemovedBeforeReplyIsSeen() async throws {
        let bus = try FakeSystemd(units: ["fast.service": .init(signalBeforeReply: true)])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .seconds(120))

        let stopped = try await manager.stop(["fast.service"])

        #expect(stopped == ["fast.service"])
        let names = bus.calls().compactMap(\.first).filter { $0 == "StopUnit" || $0 == "JobRemoved" }
        #expect(names == ["StopUnit", "JobRemoved"])
    }

    @Test("a job that never ends times out with an error naming the unit and the job")
    func hungJobTimesOut() async throws {
        let bus = try FakeSystemd(units: ["stuck.service": .init(stopResult: nil)])
        let manager = SystemdServiceManager(busAddress: bus.address, jobTimeout: .milliseconds(300))

        let error = await #expect(throws: ServiceError.self) {
            try await manager.stop(["stuck.service"])
        }

        // The 0.3 s job timeout ends the wait (a wait that never ended would not return).
        #expect(error?.unit == "stuck.service")
        #expect(
            error?.message
                == "StopUnit job /org/freedesktop/systemd1/job/1 did not finish within 0.3 s; "
                + "check 'systemctl status stuck.service'"
        )
    }

    @Test("without a bus the error says which address could not be reached")
    func noBusIsAClearError() async throws {
        let manager = SystemdServiceManager(busAddress: "unix:path=/nonexistent/lvx-bus")

        let error = await #expect(throws: ServiceError.self) {
            try await manager.stop(["a.service", "b.service"])
        }

        #expect(error?.unit == "a.service, b.service")
        #expect(
            error?.message
                == "cannot connect to the system bus at 'unix:path=/nonexistent/lvx-bus': no such file or directory "
                + "(sd_bus_start); check that dbus and systemd are running"
        )
        // Nothing to do means nothing to connect to.
        #expect(try await manager.stop([]) == [])
    }

    @Test("with no address the manager uses the system bus named by DBUS_SYSTEM_BUS_ADDRESS")
    func honoursSystemBusAddressVariable() async throws {
        let bus = try FakeSystemd(units: ["a.service": .init(state: "inactive")])
        let previous = getenv("DBUS_SYSTEM_BUS_ADDRESS").map { String(cString: $0) }
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address, 1)
        defer {
            if let previous {
                setenv("DBUS_SYSTEM_BUS_ADDRESS", previous, 1)
            } else {
                unsetenv("DBUS_SYSTEM_BUS_ADDRESS")
            }
        }

        try await SystemdServiceManager(jobTimeout: .seconds(120)).start(["a.service"])

        #expect(bus.jobCalls() == ["StartUnit a.service replace"])
    }
}

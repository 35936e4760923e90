import Foundation
import LVXTestSupport
import Testing

/// Apply that fails part-way (exit 3), and the services it stops and restarts.
///
/// A refused write, a silent revert, a unit that stops answering, a SIGTERM: the first failure stops
/// the apply, the evidence is committed, nothing more is written. The services in
/// `apply.stop_units` are stopped and restarted over D-Bus whatever happens.
@Suite("apply failures end to end")
struct ReviewCycleFailureTests {
    static let unit1 = ReviewSite.unit1
    static let unit2 = ReviewSite.unit2

    /// Both units at float 54.4 V and 50 A: four steps, two per unit.
    static let drift = ReviewSite.sets([
        unit1: ["float_voltage": "54.4", "max_charging_current": "50"],
        unit2: ["float_voltage": "54.4", "max_charging_current": "50"],
    ])

    @Test("a refused write (^0) stops the apply: exit 3, outcome failed, later steps not sent")
    func refused() throws {
        let site = try ReviewSite(Self.drift + ["--fault", "\(Self.unit1):refuse=float_voltage"])
        let id = try site.approvedPlan()
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 3, "\(apply)")
        #expect(
            apply.stderr == """
                error: apply failed: MCHGV564,540 on 'lvx6048-1': the inverter refused the write (^0)
                note: later writes were not sent; the evidence is in applied/\(id).yaml. 'lvx6048-1' did not take float_voltage: set it on the LCD and add an `accept` entry, or fix the profile; then `lvx plan` again

                """
        )
        #expect(
            apply.stdout.contains(
                "lvx6048-1: float_voltage 54.4 -> 54.0 (MCHGV564,540) FAILED: the inverter refused the write (^0)\n"
            ),
            "\(apply)"
        )
        #expect(
            site.lastSubject
                == "apply plan \(id): failed (MCHGV564,540 on 'lvx6048-1': the inverter refused the write (^0))"
        )
        #expect(site.isClean)
        let result = try #require(site.file("applied/\(id).yaml"))
        #expect(result.contains("\noutcome: failed\n"))
        #expect(ReviewSite.count("ack: refused", in: result) == 1, "\(result)")
        #expect(ReviewSite.count("ack: not_sent", in: result) == 3)
        #expect(
            result.contains("command: 'MCHGV564,540', sent_at: '") && result.contains("ack: refused, read_back: null")
        )
        // The refused setter is the only one; the read after it is the after-dump.
        #expect(site.sim.settersReceived.count == 1)
        #expect(site.writeSequence(Self.unit1) == ["S MCHGV564,540", "P PIRI"])
        #expect(site.sim.log(Self.unit1).contains { $0.contains(" S MCHGV564,540 nak ") })
        #expect(site.setters(Self.unit2).isEmpty)
    }

    @Test("a write acknowledged but not honoured (silent revert) fails on read-back: exit 3, nothing after it")
    func silentRevert() throws {
        let site = try ReviewSite(Self.drift + ["--fault", "\(Self.unit1):ignore=float_voltage"])
        let id = try site.approvedPlan()
        let apply = try site.lvx(["apply", id])
        #expect(apply.exitCode == 3, "\(apply)")
        #expect(
            apply.stderr.hasPrefix(
                "error: apply failed: MCHGV564,540 on 'lvx6048-1': read-back mismatch: float_voltage is 54.4, want 54.0\n"
            ),
            "\(apply)"
        )
        let result = try #require(site.file("applied/\(id).yaml"))
        #expect(result.contains("\noutcome: failed\n"))
        #expect(
            result.contains("  read_back: {bulk_voltage: 56.4, float_voltage: 54.4}\n  matched: false\n"),
            "\(result)"
        )
        #expect(ReviewSite.count("ack: not_sent", in: result) == 3)
        #expect(site.sim.settersReceived.count == 1)
        // The read-back doubles as the after-dump: no PIRI after it.
        #expect(site.writeSequence(Self.unit1) == ["S MCHGV564,540", "P PIRI"])
        #expect(site.isClean)
    }

    @Test(
        "a unit that stops answering mid-apply: exit 3 within a bounded time, the result committed",
        arguments: [
            // The setter itself gets no reply: its effect is unknown.
            (6, "no valid acknowledgement: "),
            // The setter is acknowledged, the read-back gets no reply.
            (7, "read-back failed: "),
        ]
    )
    func hang(answering: Int, detail: String) throws {
        let site = try ReviewSite(Self.drift)
        let id = try site.approvedPlan()
        // From now on lvx6048-1 answers `answering` more requests: apply's re-read takes six (ID, ID, VFW, PIRI, GS, MCHGCR).
        try site.setFaults(Self.unit1, ["hang-after=\(answering)"])
        let apply = try site.lvx(["apply", id, "--timeout", "0.5"])
        #expect(apply.exitCode == 3, "\(apply)")
        // One setter timeout (3 s) and the read-back's 3 x 0.5 s attempts is the bound; bench/
        // measures it, a test only sees the apply end.
        #expect(apply.stderr.hasPrefix("error: apply failed: MCHGV564,540 on 'lvx6048-1': \(detail)"), "\(apply)")
        let result = try #require(site.file("applied/\(id).yaml"))
        #expect(result.contains("\noutcome: failed\n"))
        #expect(result.contains("\nafter:\n  lvx6048-1: null\n"), "the hung unit's after-read is unknown: \(result)")
        #expect(ReviewSite.count("ack: not_sent", in: result) == 3)
        #expect(site.sim.settersReceived == site.sim.log(Self.unit1).filter { $0.contains(" S ") })
        #expect(site.setters(Self.unit1) == ["MCHGV564,540"])
        #expect(site.isClean)
    }

    @Test("SIGTERM during apply at 2400 baud: exit 3, outcome interrupted, committed, no further setter")
    func sigterm() throws {
        let site = try ReviewSite(Self.drift, baud: 2400)
        let id = try site.approvedPlan()
        let child = try LVXChild(
            ["apply", id],
            environment: ["LVX_REPO": site.repo.path.path, "LVX_PORTS": site.sim.portList]
        )
        let wrote = eventually(timeout: 300) { !site.sim.settersReceived.isEmpty }
        try #require(wrote, "apply sent no setter: \(child.stderr)")
        child.terminate()
        let code = child.wait(timeout: 300)
        #expect(code == 3, "stdout: \(child.stdout)\nstderr: \(child.stderr)")
        #expect(
            child.stderr.contains("lvx: signal received; finishing the current exchange, sending no further write\n")
        )
        #expect(child.stderr.contains("error: apply interrupted: interrupted before MCHGC0,060 on 'lvx6048-1'\n"))
        #expect(site.sim.settersReceived.count == 1, "\(site.sim.settersReceived)")
        #expect(site.setters(Self.unit1) == ["MCHGV564,540"])
        let result = try #require(site.file("applied/\(id).yaml"))
        #expect(result.contains("\noutcome: interrupted\n"))
        #expect(
            result.contains(
                "  ack: accepted\n  read_back: {bulk_voltage: 56.4, float_voltage: 54.0}\n  matched: true\n"
            )
        )
        #expect(ReviewSite.count("ack: not_sent", in: result) == 3)
        #expect(site.lastSubject.hasPrefix("apply plan \(id): interrupted"))
        #expect(site.isClean)
    }

    @Test(
        "apply stops the units in apply.stop_units over D-Bus and starts them again, also after a failure",
        .enabled(if: StandInSystemd.isAvailable, "needs dbus-daemon, python3-dbus and python3-gi")
    )
    func services() throws {
        let units = ["powermon.service", "powermon2.service"]
        let stopUnits = "  stop_units: [powermon.service, powermon2.service]\n"
        for refuse in [false, true] {
            let systemd = try StandInSystemd(units: units)
            let site = try ReviewSite(
                Self.drift + (refuse ? ["--fault", "\(Self.unit2):refuse=max_charging_current"] : []),
                site: ReviewSite.site(apply: stopUnits)
            )
            site.environment["DBUS_SYSTEM_BUS_ADDRESS"] = systemd.address
            let made = try site.lvx(["plan"])
            let id = try #require(ReviewSite.planID(in: made.stdout))
            let plan = try #require(made.stdout.components(separatedBy: "\nPlan \(id)").first)
            #expect(try site.lvx(["approve", id]).exitCode == 0)
            #expect(systemd.jobCalls.isEmpty, "plan and approve touch no service")
            let apply = try site.lvx(["apply", id])
            #expect(apply.exitCode == (refuse ? 3 : 0), "\(apply)")
            #expect(
                systemd.jobCalls == [
                    "StopUnit powermon.service replace", "StopUnit powermon2.service replace",
                    "StartUnit powermon.service replace", "StartUnit powermon2.service replace",
                ]
            )
            #expect(
                apply.stdout.hasPrefix(
                    "\(plan)\napplying plan \(id) (4 write(s)), approved by alice\nstopping powermon.service, powermon2.service\n"
                )
            )
            #expect(apply.stdout.contains("\nstarting powermon.service, powermon2.service\n"))
            let result = try #require(site.file("applied/\(id).yaml"))
            #expect(result.contains("\nstopped_services: [powermon.service, powermon2.service]\nrestart_error: null\n"))
            #expect(site.sim.settersReceived.count == 4, "the refused write is the last of the four")
            #expect(site.isClean)
        }
    }
}

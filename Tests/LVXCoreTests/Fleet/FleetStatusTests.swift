import LVXCore
import Testing

@Suite("fleet status: health, lateness, the verdict and the text")
struct FleetStatusTests {
    let now = WallTime(secondsSince1970: 1_800_000_000)
    let policy = FleetPolicy()

    func site(
        _ name: String,
        age: Int64?,
        units: [LastRun.Unit] = [LastRun.Unit(name: "u1", reachable: true, driftedKeys: [], fault: nil)],
        plan: PlanState? = nil
    ) -> SiteStatus {
        SiteStatus(
            site: name,
            tip: "0",
            lastRun: age.map {
                LastRun(finished: WallTime(secondsSince1970: now.secondsSince1970 - $0), exitCode: 0, units: units)
            },
            problem: age == nil ? "no run recorded yet" : nil,
            pendingPlan: plan.map {
                FleetPlan(site: name, id: "abcdef0123456789", created: now, writes: 1, units: ["u1"], state: $0)
            },
            lastApply: nil
        )
    }

    @Test("late beats unreachable beats changes; a site with no run is unknown, not late")
    func health() {
        let down = [LastRun.Unit(name: "u1", reachable: false, driftedKeys: [], fault: nil)]
        #expect(site("a", age: 2701, units: down).health(now: now, policy: policy) == .late)
        #expect(site("a", age: 2700, units: down).health(now: now, policy: policy) == .unreachable)
        #expect(site("a", age: 60, plan: .pendingApproval).health(now: now, policy: policy) == .changes)
        let drift = [LastRun.Unit(name: "u1", reachable: true, driftedKeys: ["float_voltage"], fault: nil)]
        #expect(site("a", age: 60, units: drift).health(now: now, policy: policy) == .changes)
        #expect(site("a", age: 60).health(now: now, policy: policy) == .inSync)
        #expect(site("a", age: nil).health(now: now, policy: policy) == .unknown)
        #expect(!site("a", age: nil).isLate(now: now, policy: policy))
    }

    @Test("exit 1 for any late, unreachable or unknown site, else 2 for any change, else 0")
    func verdict() {
        let ok = site("a", age: 60)
        #expect(FleetVerdict.exitStatus([ok], now: now, policy: policy) == .success)
        #expect(
            FleetVerdict.exitStatus(
                [ok, site("b", age: 60, plan: .approved(by: "x", at: now, key: nil))],
                now: now,
                policy: policy
            ) == .changes
        )
        #expect(
            FleetVerdict.exitStatus(
                [site("b", age: 60, plan: .pendingApproval), site("c", age: nil)],
                now: now,
                policy: policy
            ) == .failure
        )
    }

    @Test("ages read as people say them")
    func ages() {
        #expect(FleetText.age(45) == "45s")
        #expect(FleetText.age(12 * 60 + 5) == "12m")
        #expect(FleetText.age(3 * 3600 + 5 * 60) == "3h05m")
        #expect(FleetText.age(2 * 86_400 + 4 * 3600) == "2d04h")
        #expect(FleetText.age(-5) == "0s")
        #expect(
            FleetText.seconds("15m") == 900 && FleetText.seconds("1d12h") == 129_600 && FleetText.seconds("x") == nil
        )
    }

    @Test("the table aligns its columns and ends with the summary and a note per late site")
    func table() {
        let text = FleetText(now: now, policy: policy).status([site("home", age: 60), site("cabin-far", age: 3600)])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("SITE       HEALTH   LAST RUN"))
        #expect(lines[1].hasPrefix("home       in sync  1m ago"))
        #expect(lines[2].hasPrefix("cabin-far  late     1h00m ago"))
        #expect(lines[3] == "cabin-far: late: no run for 1h00m, more than 3 x 15m")
        #expect(lines[4] == "2 site(s): 1 in sync, 0 with changes, 1 late, 0 unreachable, 0 unknown")
    }
}

import LVXCore

/// `lvx fleet`: every site of a fleet, read from its branch (`sites/NAME`) of the shared upstream.
///
/// Each site's agent commits `runs/last.yaml`, its plans and their records on its own branch, so
/// the fleet's state is what those branches hold: nothing is read from an inverter, and nothing
/// is written.
public struct FleetView: Sendable {
    public var repository: any SiteRepository
    public var codec: any RecordCodec
    public var clock: any WallClock
    /// Checks approvals against the keys this host pins; `nil` leaves them unchecked.
    public var verifier: (any ApprovalVerifier)?

    public init(
        repository: any SiteRepository,
        codec: any RecordCodec,
        clock: any WallClock,
        verifier: (any ApprovalVerifier)? = nil
    ) {
        self.repository = repository
        self.codec = codec
        self.clock = clock
        self.verifier = verifier
    }

    /// The path of the run summary each agent pass rewrites.
    public static let lastRunPath = "runs/last.yaml"

    /// One site's row: its last run, its newest pending plan and its newest apply outcome.
    public func status(site: String, tip: String) -> SiteStatus {
        var lastRun: LastRun?
        var problem: String?
        do {
            if let bytes = try repository.file(Self.lastRunPath, at: tip) {
                lastRun = LastRun(try codec.parse(bytes, file: Self.lastRunPath))
                if lastRun == nil { problem = "\(Self.lastRunPath) is not a run summary" }
            } else {
                problem = "no run recorded yet"
            }
        } catch {
            problem = "\(Self.lastRunPath): \(error)"
        }
        let plans = (try? self.plans(site: site, tip: tip)) ?? []
        return SiteStatus(
            site: site,
            tip: tip,
            lastRun: lastRun,
            problem: problem,
            pendingPlan: plans.first(where: \.isPending),
            lastApply: plans.first(where: \.isOutcome)
        )
    }

    /// How far back the site's history must reach for ``status(site:tip:)`` and
    /// ``plans(site:tip:)`` to check the approvals that still decide a state: the creation time of
    /// the oldest plan that is approved and not yet over, or `nil` when there is none.
    ///
    /// An approval is committed after its plan was made, so a mirror holding the commits since
    /// then can tell who signed it; an approval dated before its plan is reported as unverified,
    /// never taken for signed. The approvals of plans that are over are not checked at all.
    public func historyNeeded(site: String, tip: String) -> WallTime? {
        let now = clock.now()
        guard verifier?.isConfigured == true,
            let snapshot = try? SiteSnapshot.load(repository, codec: codec, revision: tip, today: CivilDate(now))
        else { return nil }
        let book = RecordBook(repository: repository, codec: codec, commit: snapshot.commit, now: now)
        let live = (try? book.live(policy: snapshot.applyPolicy, now: now)) ?? []
        return live.filter { $0.approval != nil }.map(\.plan.created).min()
    }

    /// Every plan of the site at `tip` that loads, newest first, with its state.
    public func plans(site: String, tip: String) throws -> [FleetPlan] {
        let snapshot = try SiteSnapshot.load(repository, codec: codec, revision: tip, today: CivilDate(clock.now()))
        let now = clock.now()
        let book = RecordBook(
            repository: repository,
            codec: codec,
            commit: snapshot.commit,
            verifier: verifier,
            now: now
        )
        return try book.all().compactMap { _, loaded in
            guard case .success(let records) = loaded else { return nil }
            let plan = records.plan
            return FleetPlan(
                site: site,
                id: plan.id,
                created: plan.created,
                writes: plan.stepCount,
                units: plan.units.filter { !$0.steps.isEmpty }.map(\.name),
                state: PlanGate.state(of: records, policy: snapshot.applyPolicy, now: now)
            )
        }
        .sorted { $0.created > $1.created }
    }
}

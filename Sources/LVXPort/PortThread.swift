import Foundation

/// A serial executor that runs its jobs on one dedicated thread, so blocking port I/O never
/// occupies Swift's cooperative thread pool (two threads on a two-core machine).
///
/// Each ``PI18Client`` actor runs on its own `PortThread`; sixteen clients reading at once use
/// sixteen threads that mostly sleep in `poll()`.
///
/// - Important: `@unchecked Sendable` is safe because the only mutable state, the job queue and
///   the stop flag, is read and written only while `condition` is locked.
final class PortThread: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread; it runs until ``stop()`` is called and the queue is empty.
    init(name: String) {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread exit once every queued job has run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}

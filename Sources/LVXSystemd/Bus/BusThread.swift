import Foundation

/// Runs blocking bus work on a dedicated thread, off Swift's cooperative pool.
///
/// A stop or start can block for as long as a unit takes to stop (up to the job timeout); doing
/// that on the cooperative pool would starve every other task.
enum BusThread {
    /// Runs `body` on a new thread named `name` and resumes the caller with its result.
    ///
    /// The work is not cancellable: a stop or start in progress runs to its end or its timeout.
    static func run<T: Sendable>(named name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: body())
            }
            thread.name = name
            thread.start()
        }
    }
}

import Foundation

/// A dedicated OS thread that runs submitted jobs one at a time, in submission order: the serial executor that
/// confines one libpq connection.
///
/// libpq is blocking and a `PGconn` must not be used by two threads at once. Giving each connection its own thread
/// lets its blocking calls (`PQconnectdbParams`, `PQexecParams`, `poll`) wait without occupying a thread of Swift's
/// cooperative pool, and makes the confinement structural: every use of the handle is a job on this thread.
///
/// `@unchecked Sendable` is sound because the only mutable state, `jobs` and `accepting`, is read and written
/// exclusively while holding `condition`'s lock; the `Thread` itself is only started in `init`.
final class ConnectionThread: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var accepting = true

    /// Starts the thread; it sleeps until a job arrives.
    init(name: String) {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = name
        thread.start()
    }

    /// Queues a job to run after all jobs queued before it.
    ///
    /// - Returns: `false` (and drops the job) when ``stop(finally:)`` was already called.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Refuses further jobs, runs those already queued followed by `lastJob`, then lets the thread end.
    ///
    /// - Returns: `false` if the thread was already stopping (then `lastJob` does not run).
    @discardableResult
    func stop(finally lastJob: Job? = nil) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        if let lastJob { jobs.append(lastJob) }
        accepting = false
        condition.signal()
        return true
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && accepting { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job() }
        }
    }
}

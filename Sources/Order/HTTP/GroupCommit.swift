import Messaging
import Synchronization

/// Work of concurrent callers done together: while one group runs, the next gathers, and then runs as
/// one — one transaction and one commit (one `fsync`) for every request that arrived meanwhile.
///
/// There is no background task: the first caller leads, runs the group, answers the others in it, and hands
/// the lead to the first caller that came while it ran. A caller is answered only once its group's work is
/// done, so a `202` still means "committed". Alone, a caller runs at once; while callers pour in (several
/// waiting, or the last group held several), the leader lingers a moment first (``BatchRhythm``), so that
/// groups fill as the rate rises instead of staying at one or two.
final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    private enum Signal: Sendable {
        case done(Result<Output, any Error>)
        case lead
    }

    private struct Waiter: Sendable {
        let id: Int
        let input: Input
        let continuation: CheckedContinuation<Signal, Never>
    }

    private struct State {
        var waiting: [Waiter] = []
        var running = false
        var nextID = 0
        var rhythm: BatchRhythm
    }

    private let state: Mutex<State>
    private let maxGroup: Int
    private let work: @Sendable ([Input]) async throws -> [Output]

    /// - Parameters:
    ///   - maxGroup: the most inputs in one group.
    ///   - linger: how long a group may wait for more inputs while they pour in.
    ///   - work: does a group's work; returns one output per input, in order. If it throws, every caller of
    ///     the group gets the error.
    init(maxGroup: Int, linger: Duration = .zero, work: @escaping @Sendable ([Input]) async throws -> [Output]) {
        self.maxGroup = max(1, maxGroup)
        self.work = work
        state = Mutex(State(rhythm: BatchRhythm(limit: maxGroup, linger: linger)))
    }

    /// Does `input`'s work with whatever other work arrives meanwhile, and returns its output.
    func submit(_ input: Input) async throws -> Output {
        var id = 0
        let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
            let leads = state.withLock { state in
                state.nextID += 1
                id = state.nextID
                state.waiting.append(Waiter(id: id, input: input, continuation: continuation))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch signal {
        case .done(let result): return try result.get()
        case .lead: return try await lead(id).get()
        }
    }

    /// Runs groups until the leader's own input is done, then hands the lead on (or stops).
    private func lead(_ own: Int) async -> Result<Output, any Error> {
        var mine: Result<Output, any Error>?
        while mine == nil {
            let linger = state.withLock { state in state.rhythm.shouldLinger(waiting: state.waiting.count) ? state.rhythm.linger : nil }
            if let linger { try? await Task.sleep(for: linger) }
            let group = state.withLock { state in
                let group = Array(state.waiting.prefix(maxGroup))
                state.waiting.removeFirst(group.count)
                state.rhythm.closed(group.count)
                return group
            }
            let results: [Result<Output, any Error>]
            do {
                results = try await work(group.map(\.input)).map { .success($0) }
            } catch {
                results = group.map { _ in .failure(error) }
            }
            for (waiter, result) in zip(group, results) {
                if waiter.id == own { mine = result } else { waiter.continuation.resume(returning: .done(result)) }
            }
        }
        let next = state.withLock { state -> Waiter? in
            if let first = state.waiting.first { return first }
            state.running = false
            return nil
        }
        // The next leader stays first in line: its own input is in the first group it runs.
        next?.continuation.resume(returning: .lead)
        return mine!
    }
}

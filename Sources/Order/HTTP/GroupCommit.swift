import DequeModule
import Messaging
import Synchronization

/// Work of concurrent callers done together: while groups run, the next gathers, and then runs as one — one
/// transaction and one commit (one `fsync`) for every request that arrived meanwhile.
///
/// There is no background task: a caller that finds fewer than `maxRunning` groups running leads one, with
/// its own input first and whatever waits behind it, answers the others in it, and hands the lead to the
/// first caller still waiting. A caller is answered only once its group's work is done, so a `202` still
/// means "committed". Alone, a caller runs at once; while callers pour in (several waiting, or the last group
/// held several), a leader lingers a moment first (``BatchRhythm``), so that groups fill as the rate rises
/// instead of staying at one or two. Two groups may run at once, so that one gathers and starts while the
/// other waits for its commit.
final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    private enum Signal: Sendable {
        case done(Result<Output, any Error>)
        case lead
    }

    private struct Waiter: Sendable {
        let input: Input
        let continuation: CheckedContinuation<Signal, Never>
    }

    private struct State {
        var waiting = Deque<Waiter>()
        var running = 0
        var rhythm: BatchRhythm
    }

    private let state: Mutex<State>
    private let maxGroup: Int
    private let maxRunning: Int
    private let work: @Sendable ([Input]) async throws -> [Output]

    /// - Parameters:
    ///   - maxGroup: the most inputs in one group.
    ///   - maxRunning: the most groups running at once.
    ///   - linger: how long a group may wait for more inputs while they pour in.
    ///   - work: does a group's work; returns one output per input, in order. If it throws, every caller of
    ///     the group gets the error.
    init(maxGroup: Int, maxRunning: Int = 2, linger: Duration = .zero, work: @escaping @Sendable ([Input]) async throws -> [Output]) {
        self.maxGroup = max(1, maxGroup)
        self.maxRunning = max(1, maxRunning)
        self.work = work
        state = Mutex(State(rhythm: BatchRhythm(limit: maxGroup, linger: linger)))
    }

    /// Does `input`'s work with whatever other work arrives meanwhile, and returns its output.
    func submit(_ input: Input) async throws -> Output {
        let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
            let leads = state.withLock { state in
                guard state.running < maxRunning else {
                    state.waiting.append(Waiter(input: input, continuation: continuation))
                    return false
                }
                state.running += 1
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch signal {
        case .done(let result): return try result.get()
        case .lead: return try await lead(input).get()
        }
    }

    /// Runs one group, `input` first, answers the others in it, and hands the lead on (or stops leading).
    private func lead(_ input: Input) async -> Result<Output, any Error> {
        let linger = state.withLock { state in state.rhythm.shouldLinger(waiting: state.waiting.count + 1) ? state.rhythm.linger : nil }
        if let linger { try? await Task.sleep(for: linger) }
        let others = state.withLock { state in
            let others = Array(state.waiting.prefix(maxGroup - 1))
            state.waiting.removeFirst(others.count)
            state.rhythm.closed(others.count + 1)
            return others
        }
        let results: [Result<Output, any Error>]
        do {
            results = try await work([input] + others.map(\.input)).map { .success($0) }
        } catch {
            results = Array(repeating: .failure(error), count: others.count + 1)
        }
        for (waiter, result) in zip(others, results.dropFirst()) { waiter.continuation.resume(returning: .done(result)) }
        let next = state.withLock { state -> Waiter? in
            guard let first = state.waiting.popFirst() else {
                state.running -= 1
                return nil
            }
            return first
        }
        next?.continuation.resume(returning: .lead)
        return results[0]
    }
}

import Synchronization
import Testing

@testable import Order

/// The intake's group commit, with work that records its groups: no database, no clock to trip.
@Suite(.timeLimit(.minutes(1)))
struct GroupCommitTests {
    /// Work that doubles its inputs, records each group, and holds every group until `release` opens.
    final class Recorder: Sendable {
        let groups = Mutex<[[Int]]>([])
        let running = Mutex((now: 0, most: 0))
        /// Whether groups may finish, and the groups held until then.
        let gate = Mutex<(open: Bool, held: [CheckedContinuation<Void, Never>])>((false, []))

        var heldCount: Int { gate.withLock { $0.held.count } }

        func work(_ inputs: [Int]) async throws -> [Int] {
            groups.withLock { $0.append(inputs) }
            running.withLock { $0 = ($0.now + 1, max($0.most, $0.now + 1)) }
            defer { running.withLock { $0.now -= 1 } }
            await withCheckedContinuation { continuation in
                let pass = gate.withLock { gate in
                    if !gate.open { gate.held.append(continuation) }
                    return gate.open
                }
                if pass { continuation.resume() }
            }
            if inputs.contains(13) { throw Unlucky() }
            return inputs.map { $0 * 2 }
        }

        func release() {
            let held = gate.withLock { gate in
                gate.open = true
                defer { gate.held = [] }
                return gate.held
            }
            for continuation in held { continuation.resume() }
        }
    }

    struct Unlucky: Error {}

    @Test func aCallerAloneRunsAtOnce() async throws {
        let recorder = Recorder()
        recorder.release()
        let commit = GroupCommit<Int, Int>(maxGroup: 10) { try await recorder.work($0) }
        #expect(try await commit.submit(21) == 42)
        #expect(recorder.groups.withLock { $0 } == [[21]])
    }

    @Test func callersThatComeWhileGroupsRunShareTheNextGroupAndEachGetsItsOwnOutput() async throws {
        let recorder = Recorder()
        let commit = GroupCommit<Int, Int>(maxGroup: 10, maxRunning: 2) { try await recorder.work($0) }
        let outputs = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for input in 1...12 { group.addTask { (input, try await commit.submit(input)) } }
            // Let every caller arrive while the first groups are held, then let them all through.
            while recorder.heldCount < 2 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(100))
            recorder.release()
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(outputs == Dictionary(uniqueKeysWithValues: (1...12).map { ($0, $0 * 2) }))
        let groups = recorder.groups.withLock { $0 }
        #expect(groups.flatMap { $0 }.sorted() == Array(1...12), "every input in exactly one group")
        #expect(groups.count < 12, "callers shared groups: \(groups)")
        #expect(recorder.running.withLock { $0.most } <= 2)
    }

    @Test func aGroupThatFailsFailsItsCallersOnlyAndTheNextGroupRuns() async throws {
        let recorder = Recorder()
        recorder.release()
        let commit = GroupCommit<Int, Int>(maxGroup: 10, maxRunning: 1) { try await recorder.work($0) }
        await #expect(throws: Unlucky.self) { try await commit.submit(13) }
        #expect(try await commit.submit(4) == 8)
    }

    @Test func noGroupIsLargerThanTheLimit() async throws {
        let recorder = Recorder()
        let commit = GroupCommit<Int, Int>(maxGroup: 3, maxRunning: 1) { try await recorder.work($0) }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for input in 1...10 { group.addTask { try await commit.submit(input) } }
            while recorder.heldCount < 1 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(100))
            recorder.release()
            for try await _ in group {}
        }
        #expect(recorder.groups.withLock { $0 }.allSatisfy { $0.count <= 3 })
    }
}

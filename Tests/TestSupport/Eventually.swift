import Logging
import ServiceLifecycle
import Testing

/// Waits until `condition` holds, checking every `interval`; records an issue naming `what` if it never does.
package func eventually(
    within timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(100),
    _ what: String = "condition",
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("not within \(timeout): \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: interval)
    }
}

/// Runs `services` in a service group until `body` returns, then shuts them down gracefully and
/// waits for them, as SIGTERM would.
package func running<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: TestEnvironment.logger("group")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

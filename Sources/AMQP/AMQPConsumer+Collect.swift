import Synchronization

extension AMQPConsumer {
    /// The next `count` deliveries, or those that came before `timeout` passed; unsettled, for the caller to settle.
    ///
    /// For short jobs that read a queue once (a command-line listing, a check in a test); a service
    /// iterates the consumer instead.
    public func collect(_ count: Int, within timeout: Duration) async throws -> [AMQPDelivery] {
        let collected = Collected()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in self where collected.append(delivery) == count { return }
            }
            group.addTask { try await Task.sleep(for: timeout) }
            try await group.next()
            group.cancelAll()
        }
        return collected.deliveries
    }
}

/// Deliveries gathered by one task and read by another.
private final class Collected: Sendable {
    private let storage = Mutex<[AMQPDelivery]>([])

    /// Appends and returns the new count.
    func append(_ delivery: AMQPDelivery) -> Int {
        storage.withLock {
            $0.append(delivery)
            return $0.count
        }
    }

    var deliveries: [AMQPDelivery] { storage.withLock { $0 } }
}

import Logging
import Messaging
import Postgres
import TestSupport
import Testing

/// The inbox keeps a window of recent messages, against the real database.
@Suite(.timeLimit(.minutes(2)))
struct InboxPrunerTests {
    @Test func recordsPastTheWindowGoInBatchesAndRecentOrHeldOnesStay() async throws {
        let harness = try await MessagingHarness.make()
        let schema = harness.schema
        // 25 records two days old (one of them held by an open transaction), 5 from a minute ago.
        try await harness.pool.execute(
            """
            INSERT INTO \(identifier: schema).inbox (consumer, message_id, processed_at)
            SELECT 'q', 'old-' || n, now() - interval '2 days' FROM generate_series(1, 25) AS n
            UNION ALL SELECT 'q', 'recent-' || n, now() - interval '1 minute' FROM generate_series(1, 5) AS n
            """
        )
        let pruner = InboxPruner(schema: schema, pool: harness.pool, window: .seconds(3600), batchSize: 10, logger: Logger(label: "test"))
        let holding = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await harness.pool.transaction { transaction in
                try await transaction.execute("SELECT 1 FROM \(identifier: schema).inbox WHERE message_id = 'old-1' FOR UPDATE")
                holding.continuation.yield()
                for await _ in release.stream { break }
            }
        }
        for await _ in holding.stream { break }

        // Three batches (10, 10, 4): the held record is skipped rather than waited for.
        #expect(try await pruner.pruneExpired() == 24)
        release.continuation.yield()
        try await holder.value
        let left = try await harness.pool.query("SELECT message_id FROM \(identifier: schema).inbox ORDER BY message_id")
            .map { try $0.decode(String.self, "message_id") }
        #expect(left == ["old-1", "recent-1", "recent-2", "recent-3", "recent-4", "recent-5"])
        #expect(try await pruner.pruneExpired() == 1)
        try await harness.tearDown()
    }
}

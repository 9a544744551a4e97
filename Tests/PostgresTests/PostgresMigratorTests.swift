import Postgres
import TestSupport
import Testing

/// Migrations against the real server, in schemas made for each test.
@Suite("PostgresMigrator", .timeLimit(.minutes(1)))
struct PostgresMigratorTests {
    static func migrations(schema: String) -> [PostgresMigration] {
        [
            PostgresMigration(version: 2, name: "seed", sql: "INSERT INTO \(schema).events (what) VALUES ('seeded');"),
            PostgresMigration(
                version: 1,
                name: "events",
                sql: "CREATE TABLE \(schema).events (id serial PRIMARY KEY, what text NOT NULL); CREATE INDEX ON \(schema).events (what);"
            ),
            PostgresMigration(version: 3, name: "note", sql: "ALTER TABLE \(schema).events ADD COLUMN note text;"),
        ]
    }

    /// Runs `body` with a pool and a schema name that does not exist yet; drops the schema afterwards.
    func withFreshSchema(_ body: (PostgresPool, String) async throws -> Void) async throws {
        let pool = try TestDatabase.makePool()
        let schema = TestEnvironment.uniqueName("pgmigrate")
        do {
            try await body(pool, schema)
        } catch {
            _ = try? await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            await pool.close()
            throw error
        }
        try await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
        await pool.close()
    }

    @Test func appliesPendingMigrationsOnceInOrderAndIsIdempotent() async throws {
        try await withFreshSchema { pool, schema in
            let migrator = PostgresMigrator(schema: schema, migrations: Self.migrations(schema: schema))
            #expect(try await migrator.migrate(on: pool) == [1, 2, 3])
            #expect(try await migrator.migrate(on: pool) == [])
            #expect(try await migrator.appliedVersions(on: pool) == [1, 2, 3])

            let recorded = try await pool.query("SELECT version, name, applied_at FROM \(identifier: schema).schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(String.self, "name") } == ["events", "seed", "note"])
            let seeded = try await pool.query("SELECT what, note FROM \(identifier: schema).events")
            #expect(seeded.count == 1)
            #expect(try seeded.first?.decode(String?.self, "note") == nil)

            // A later release adds a migration; only that one runs.
            let extended = PostgresMigrator(
                schema: schema,
                migrations: Self.migrations(schema: schema) + [
                    PostgresMigration(version: 4, name: "more", sql: "INSERT INTO \(schema).events (what) VALUES ('more');")
                ]
            )
            #expect(try await extended.migrate(on: pool) == [4])
            #expect(try await pool.query("SELECT what FROM \(identifier: schema).events").count == 2)
        }
    }

    @Test func racingMigratorsApplyEachMigrationExactlyOnce() async throws {
        try await withFreshSchema { pool, schema in
            let migrations = Self.migrations(schema: schema)
            let applied = Recorder<[Int]>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Separate pools, as separate service instances starting at once would have.
                        let instancePool = try TestDatabase.makePool(size: 2)
                        let versions = try await PostgresMigrator(schema: schema, migrations: migrations).migrate(on: instancePool)
                        await applied.append(versions)
                        await instancePool.close()
                    }
                }
                try await group.waitForAll()
            }
            let all = await applied.values.flatMap { $0 }
            #expect(all.sorted() == [1, 2, 3])
            let seeded = try await pool.query("SELECT count(*) AS n FROM \(identifier: schema).events WHERE what = 'seeded'")
            #expect(try seeded.first?.decode(Int.self, "n") == 1)
            let recorded = try await pool.query("SELECT count(*) AS n FROM \(identifier: schema).schema_migrations")
            #expect(try recorded.first?.decode(Int.self, "n") == 3)
        }
    }

    @Test func failingMigrationRollsBackAndLaterOnesWait() async throws {
        try await withFreshSchema { pool, schema in
            var migrations = Self.migrations(schema: schema)
            migrations[0].sql = "INSERT INTO \(schema).events (what) VALUES ('seeded'); INSERT INTO \(schema).nowhere VALUES (1);"
            let error = try await #require(throws: PostgresError.self) {
                try await PostgresMigrator(schema: schema, migrations: migrations).migrate(on: pool)
            }
            #expect(error.sqlState == "42P01")
            let migrator = PostgresMigrator(schema: schema, migrations: Self.migrations(schema: schema))
            #expect(try await migrator.appliedVersions(on: pool) == [1])
            #expect(try await pool.query("SELECT * FROM \(identifier: schema).events").isEmpty)

            #expect(try await migrator.migrate(on: pool) == [2, 3])
        }
    }

    @Test func duplicateVersionsAreRejectedBeforeTouchingTheDatabase() async throws {
        try await withFreshSchema { pool, schema in
            let migrator = PostgresMigrator(
                schema: schema,
                migrations: [
                    PostgresMigration(version: 1, name: "a", sql: "SELECT 1"),
                    PostgresMigration(version: 1, name: "b", sql: "SELECT 2"),
                ]
            )
            let error = try await #require(throws: PostgresError.self) { try await migrator.migrate(on: pool) }
            #expect(error.code == .invalidConfiguration)
            let schemas = try await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)")
            #expect(schemas.isEmpty)
        }
    }
}

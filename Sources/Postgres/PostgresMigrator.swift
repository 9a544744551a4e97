import Logging

/// Brings a schema up to date by applying the migrations it has not seen yet, safely when several instances start
/// at once.
///
/// ``migrate(on:logger:)`` creates the schema and its `schema_migrations(version, name, applied_at)` table if they
/// are missing, then applies each pending migration in version order, each in its own transaction together with
/// the row that records it. Every one of those transactions first takes `pg_advisory_xact_lock(hashtext(schema))`
/// and re-checks the table, so concurrent migrators serialize and each migration is applied exactly once; running
/// `migrate` again changes nothing.
public struct PostgresMigrator: Sendable {
    /// The schema the migrations belong to (created if missing), also where `schema_migrations` lives.
    public let schema: String
    /// The migrations, in any order.
    public let migrations: [PostgresMigration]

    /// Creates a migrator; nothing touches the database until ``migrate(on:logger:)``.
    public init(schema: String, migrations: [PostgresMigration]) {
        self.schema = schema
        self.migrations = migrations
    }

    /// Applies the pending migrations and returns the versions this call applied (empty when up to date).
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/invalidConfiguration`` when two migrations share a
    ///   version (before touching the database); otherwise the failing migration's error, with the migrations before
    ///   it applied and it rolled back.
    @discardableResult
    public func migrate(on pool: PostgresPool, logger: Logger? = nil) async throws -> [Int] {
        let ordered = try Self.ordered(migrations)
        try await pool.transaction { transaction in
            try await lock(transaction)
            // A service's role may own its schema without being allowed to create schemas in the
            // database, and CREATE SCHEMA IF NOT EXISTS needs that privilege even when the schema exists.
            if try await transaction.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)").isEmpty {
                try await transaction.execute("CREATE SCHEMA \(identifier: schema)")
            }
            try await transaction.execute(
                """
                CREATE TABLE IF NOT EXISTS \(identifier: schema).schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
        }
        let alreadyApplied = Set(try await appliedVersions(on: pool))
        var appliedNow: [Int] = []
        for migration in ordered where !alreadyApplied.contains(migration.version) {
            let applied = try await pool.transaction { transaction in
                try await lock(transaction)
                // Another instance may have applied it since the list above was read.
                let existing = try await transaction.query(
                    "SELECT 1 FROM \(identifier: schema).schema_migrations WHERE version = \(migration.version)"
                )
                guard existing.isEmpty else { return false }
                try await transaction.connection.executeScript(migration.sql)
                try await transaction.execute(
                    "INSERT INTO \(identifier: schema).schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))"
                )
                return true
            }
            if applied {
                appliedNow.append(migration.version)
                logger?.info(
                    "postgres migration applied",
                    metadata: ["postgres.schema": "\(schema)", "postgres.migration": "\(migration.version) \(migration.name)"]
                )
            }
        }
        return appliedNow
    }

    /// The versions recorded in `<schema>.schema_migrations`, ascending.
    ///
    /// - Throws: the server's error, for example `42P01` when the table does not exist yet.
    public func appliedVersions(on pool: PostgresPool) async throws -> [Int] {
        try await pool.query("SELECT version FROM \(identifier: schema).schema_migrations ORDER BY version")
            .map { try $0.decode(Int.self, 0) }
    }

    private func lock(_ transaction: PostgresTransaction) async throws {
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext(\(schema)))")
    }

    /// The migrations in ascending version order; duplicate versions are an error.
    static func ordered(_ migrations: [PostgresMigration]) throws -> [PostgresMigration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(
                code: .invalidConfiguration,
                message: "migrations \"\(previous.name)\" and \"\(next.name)\" share version \(next.version)"
            )
        }
        return sorted
    }
}

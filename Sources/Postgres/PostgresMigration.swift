/// One step of a schema's evolution: SQL applied once, identified by its version.
///
/// Versions order the steps and are recorded in `<schema>.schema_migrations` once applied; never change the SQL of a
/// version that has shipped, add a new version instead.
public struct PostgresMigration: Sendable, Hashable {
    /// The step's unique number; steps are applied in ascending order.
    public var version: Int
    /// A short description, recorded alongside the version.
    public var name: String
    /// The SQL to run; may hold several statements separated by `;`. It runs inside a transaction, so it must not
    /// contain `COMMIT` or statements that refuse transactions (such as `CREATE INDEX CONCURRENTLY`).
    public var sql: String

    /// Creates a migration step.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

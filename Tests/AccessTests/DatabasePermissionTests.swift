import Contracts
import Postgres
import Provisioning
import TestSupport
import Testing

/// Each service's PostgreSQL role, logged in for real on the database `./infra/dev test` provisioned:
/// it may use its own schema, and is refused every other one, `public` included.
@Suite(.timeLimit(.minutes(1)))
struct DatabasePermissionTests {
    func withRole<T>(_ role: String, _ body: (PostgresPool) async throws -> T) async throws -> T {
        var configuration = try PostgresConfiguration(url: try TestEnvironment.databaseURL(asRole: role))
        configuration.applicationName = "access-test"
        let pool = PostgresPool(configuration: configuration, size: 1, logger: TestEnvironment.logger("access"))
        do {
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// The SQLSTATE a statement fails with, or `nil` when it succeeds.
    func sqlState(_ pool: PostgresPool, _ query: PostgresQuery) async -> String? {
        do {
            _ = try await pool.query(query)
            return nil
        } catch let error as PostgresError {
            return error.sqlState ?? "?"
        } catch {
            return "?"
        }
    }

    @Test(arguments: SystemCatalog.all.map(\.name))
    func aRoleUsesItsOwnSchemaAndIsRefusedEveryOther(service: String) async throws {
        let descriptor = try #require(SystemCatalog.service(named: service))
        try await withRole(descriptor.databaseRole) { pool in
            let table = TestEnvironment.uniqueName("access")
            #expect(await sqlState(pool, "CREATE TABLE \(identifier: descriptor.schema).\(identifier: table) (id int)") == nil)
            #expect(await sqlState(pool, "SELECT count(*) FROM \(identifier: table)") == nil, "search_path is its own schema")
            #expect(await sqlState(pool, "DROP TABLE \(identifier: descriptor.schema).\(identifier: table)") == nil)
            for other in SystemCatalog.all where other.schema != descriptor.schema {
                // Refused at the schema, whether or not the table exists: 42501 insufficient_privilege.
                #expect(
                    await sqlState(pool, "SELECT * FROM \(identifier: other.schema).schema_migrations") == "42501",
                    "\(descriptor.databaseRole) must not read \(other.schema)")
                #expect(await sqlState(pool, "CREATE TABLE \(identifier: other.schema).\(identifier: table) (id int)") == "42501")
            }
            #expect(await sqlState(pool, "CREATE TABLE public.\(identifier: table) (id int)") == "42501", "nothing beside the schemas")
            #expect(await sqlState(pool, "CREATE SCHEMA \(identifier: table)") == "42501", "no schema of its own making")
        }
    }

    @Test func theOperatorReadsEverySchema() async throws {
        let pool = try PostgresPool.forTesting(size: 1)
        for service in SystemCatalog.all {
            let visible = try await pool.query("SELECT has_schema_privilege(\(service.schema), 'USAGE')").first?.decode(Bool.self, 0)
            #expect(visible == true, "the operator reads \(service.schema)")
        }
        await pool.close()
    }
}

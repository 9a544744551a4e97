import Postgres

extension PostgresPool {
    /// A pool on the test database with short timeouts.
    package static func forTesting(
        size: Int = 4, acquireTimeout: Duration = .seconds(20), applicationName: String = TestEnvironment.uniqueName("orderly_test")
    ) throws -> PostgresPool {
        var configuration = try PostgresConfiguration(url: TestEnvironment.databaseURL)
        configuration.applicationName = applicationName
        configuration.connectTimeout = .seconds(5)
        return PostgresPool(configuration: configuration, size: size, acquireTimeout: acquireTimeout, logger: TestEnvironment.logger("postgres"))
    }
}

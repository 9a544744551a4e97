import AMQP
import Logging

extension ConnectionOptions {
    /// Connects to the broker, runs `body`, and closes the connection whatever happens.
    func withBroker<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        var configuration = try AMQPConfiguration(url: amqpURL)
        configuration.connectionName = "orderly-cli"
        var logger = Logger(label: "orderly")
        // Every failure ends the command with its own one-line error; the connection's log would say it twice.
        logger.logLevel = .critical
        return try await AMQPConnection.withConnection(configuration: configuration, logger: logger, body)
    }
}

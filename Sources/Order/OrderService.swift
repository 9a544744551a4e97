import AMQP
import Contracts
import Hummingbird
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// The order-service: HTTP intake, the order state machine driven by the saga's events, the saga
/// deadline, the outbox relay that publishes what it emits, and the operator's page (``OpsRoutes``).
package enum OrderService {
    /// Runs the service process until SIGTERM or SIGINT, configured from `settings`.
    package static func run(settings: ServiceSettings) async throws {
        let configuration = try OrderServiceConfiguration(settings: settings)
        let topology = configuration.queues.topology.merging(AMQPTopology(exchanges: [AMQPTopology.Exchange(name: configuration.events.exchange)]))
        try await ServiceRuntime.run(
            settings: settings, schema: configuration.schema, migrations: OrderMigrations.all(schema: configuration.schema), topology: topology,
            queues: configuration.queues
        ) {
            dependencies, router in
            OpsRoutes(peers: configuration.peers, adminKeys: configuration.adminKeys, own: dependencies.parking).add(to: router)
            return build(
                configuration: configuration, pool: dependencies.pool, connection: dependencies.amqp, router: router, logger: dependencies.logger)
        }
    }

    /// Adds the routes to `router` and returns the long-running parts: the backlog reading, the consumer,
    /// the deadline watcher and the outbox relay. The schema must be migrated with ``OrderMigrations/all(schema:)``.
    package static func build<Context: RequestContext>(
        configuration: OrderServiceConfiguration, pool: PostgresPool, connection: AMQPConnection, router: Router<Context>, logger: Logger
    ) -> [any Service] {
        let saga = OrderSaga(schema: configuration.schema, events: configuration.events, dispatch: OutboxDispatch())
        let backlog = SagaBacklog(store: saga.store, pool: pool, limit: configuration.maxOpenOrders, logger: logger)
        OrderAPI(saga: saga, pool: pool, configuration: configuration, backlog: backlog).addRoutes(to: router)
        return [
            backlog,
            OutboxRelay(
                outbox: saga.outbox, pool: pool, connection: connection, exchanges: [configuration.events.exchange],
                linger: configuration.batchLinger, logger: logger),
            MessageConsumer(
                queues: configuration.queues, outbox: saga.outbox, pool: pool, connection: connection,
                handlers: OrderEventHandlers.make(saga: saga, sagaDeadline: configuration.sagaDeadline), source: configuration.events.source,
                exchange: configuration.events.exchange, linger: configuration.batchLinger, logger: logger
            ),
            SagaDeadlineWatcher(saga: saga, pool: pool, interval: configuration.deadlinePollInterval, logger: logger),
        ]
    }
}

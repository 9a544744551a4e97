import ServiceLifecycle

/// Shuts the ``GatewayClient`` down on graceful shutdown. Put it before the consumer in a service
/// group: the group stops services in reverse order, so the client closes after the last handler.
package struct GatewayClientCloser: Service {
    let client: GatewayClient

    package init(client: GatewayClient) { self.client = client }

    package func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}

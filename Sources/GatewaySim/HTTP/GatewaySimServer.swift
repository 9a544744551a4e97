import Hummingbird
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The simulator on its own HTTP server, as a ``Service``: for tests that need a real gateway over
/// the network in-process, on a port the system picks.
///
/// ``port()`` waits until the server listens. The server stops when its task is cancelled or on
/// graceful shutdown.
package final class GatewaySimServer: Service, Sendable {
    let simulator: GatewaySimulator
    let host: String
    let requestedPort: Int
    let logger: Logger
    private let bound = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    /// - Parameter port: `0` for a free port chosen by the system.
    package init(simulator: GatewaySimulator, host: String = "127.0.0.1", port: Int = 0, logger: Logger) {
        self.simulator = simulator
        self.host = host
        self.requestedPort = port
        self.logger = logger
    }

    package func run() async throws {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        simulator.addRoutes(to: router)
        router.answerUnroutedMethodsWith405()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: "gateway-sim"),
            onServerRunning: { [self] channel in self.didBind(channel.localAddress?.port ?? requestedPort) },
            logger: logger
        )
        try await application.run()
    }

    /// The port the server listens on, once it does.
    package func port() async -> Int {
        await withCheckedContinuation { continuation in
            let port: Int? = bound.withLock { state in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    /// `http://host:port`, once the server listens.
    package func baseURL() async -> String { "http://\(host):\(await port())" }

    private func didBind(_ port: Int) {
        let waiters = bound.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }
}

import Logging
import Metrics
import Prometheus
import Synchronization

/// Process-wide logging and metrics, set up once by each executable.
public enum Observability {
    private static let registryStore = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Logs to standard error at `level`, and collects metrics for `/metrics`. Idempotent.
    public static func bootstrap(level: Logger.Level) {
        registryStore.withLock { store in
            guard store == nil else { return }
            let registry = PrometheusCollectorRegistry()
            store = registry
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
    }

    /// The registry behind `/metrics`; a private one when ``bootstrap(level:)`` was not called (as in tests).
    public static var registry: PrometheusCollectorRegistry {
        registryStore.withLock { store in
            if let store { return store }
            let registry = PrometheusCollectorRegistry()
            store = registry
            return registry
        }
    }
}

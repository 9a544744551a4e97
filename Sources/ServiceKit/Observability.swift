import Logging
import Metrics
import Prometheus
import Synchronization

/// How a service writes its log lines (`ORDERLY_LOG_FORMAT`).
package enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line (``JSONLogHandler``), for machines: the default of the services.
    case json
    /// swift-log's text lines, for a person at a terminal.
    case text
}

/// Process-wide logging and metrics, set up once by each executable.
///
/// Tracing needs no setup: components take ``Telemetry/ProcessTracer/current``, the tracer bootstrapped
/// with `InstrumentationSystem` or else the built-in W3C one.
package enum Observability {
    private static let registryStore = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The buckets of every duration histogram: from half a millisecond, since a handler's share of a
    /// batch or a request answered from memory takes less than the Prometheus default's first 5 ms.
    package static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// Logs to standard error at `level` in `format`, each line naming `service`, and collects metrics
    /// for `/metrics`. Idempotent: only the first call takes effect.
    package static func bootstrap(level: Logger.Level, format: LogFormat = .text, service: String) {
        registryStore.withLock { store in
            guard store == nil else { return }
            let registry = PrometheusCollectorRegistry()
            store = registry
            LoggingSystem.bootstrap { label in
                switch format {
                case .json:
                    var handler = JSONLogHandler(label: label, service: service)
                    handler.logLevel = level
                    return handler
                case .text:
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level
                    return handler
                }
            }
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
        }
    }

    /// The registry behind `/metrics`; a private one when ``bootstrap(level:format:service:)`` was not called (as in tests).
    package static var registry: PrometheusCollectorRegistry {
        registryStore.withLock { store in
            if let store { return store }
            let registry = PrometheusCollectorRegistry()
            store = registry
            return registry
        }
    }
}

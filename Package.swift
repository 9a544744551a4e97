// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Orderly",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orderly", targets: ["orderly"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Messaging", targets: ["Messaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.3.0"),
    ],
    targets: [
        // C libraries, imported as they are.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // What Swift cannot import from librabbitmq: the variadic login.
        .target(name: "CAMQPShim", dependencies: ["CRabbitMQ"]),

        // Async clients over the C libraries.
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "CAMQPShim",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // W3C trace context and its tracer, and metric handles made once: what logs, traces and metrics share.
        .target(
            name: "Telemetry",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),

        // Envelope, outbox, inbox, retry tiers, consumer runner.
        .target(
            name: "Messaging",
            dependencies: [
                "AMQP", "Postgres", "Telemetry",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The saga's shared vocabulary: exchanges, event types, payloads, queues.
        .target(name: "Contracts", dependencies: ["AMQP", "Messaging"]),
        // Who may do what, from the catalog: broker users and permissions, database roles and schemas,
        // the secrets of a local installation, and the provisioning that applies them.
        .target(
            name: "Provisioning",
            dependencies: [
                "AMQP", "Postgres", "Contracts",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What every service process has: configuration, logging, metrics, health, startup.
        .target(
            name: "ServiceKit",
            dependencies: [
                "AMQP", "Postgres", "Messaging", "Contracts", "Telemetry",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The services, each a library with a thin executable.
        .target(
            name: "Order",
            dependencies: [
                "Contracts", "Messaging", "ServiceKit", "Telemetry",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Payment",
            dependencies: [
                "Contracts", "ServiceKit", "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(name: "Inventory", dependencies: ["Contracts", "ServiceKit", "Telemetry", .product(name: "Hummingbird", package: "hummingbird")]),
        .target(
            name: "Notification",
            dependencies: [
                "Contracts", "ServiceKit", "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "GatewaySim", dependencies: ["Contracts", "ServiceKit", .product(name: "Hummingbird", package: "hummingbird")]),

        // A whole system run locally as processes: every service on free ports, in a virtual host and
        // a database of its own, and the broker and database of infra/dev.
        .target(
            name: "LocalRun",
            dependencies: [
                "AMQP", "Postgres", "Contracts", "Provisioning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The fault runner: load, faults, and the invariants checked afterwards.
        .target(
            name: "Chaos",
            dependencies: [
                "AMQP", "Postgres", "Messaging", "Contracts", "LocalRun",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The end-to-end bench: open-loop load through the intake, outcomes, CPU per process, limits.
        .target(
            name: "Bench",
            dependencies: [
                "AMQP", "Postgres", "Messaging", "Contracts", "LocalRun",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // The operator's work on the broker, as a library: parked messages listed, shown, replayed and purged;
        // the topology verified. No service library below it, so that a service's own API can offer the same.
        .target(
            name: "OperatorKit",
            dependencies: ["AMQP", "Messaging", "Contracts"]
        ),
        // What other systems may publish on orderly.ingress, checked with the consuming services' own rules.
        .target(
            name: "Ingress",
            dependencies: ["Contracts", "Order"]
        ),

        // Executables.
        .executableTarget(name: "order-service", dependencies: ["Order", "Contracts", "ServiceKit"], path: "Sources/Executables/order-service"),
        .executableTarget(
            name: "payment-service", dependencies: ["Payment", "Contracts", "ServiceKit"], path: "Sources/Executables/payment-service"),
        .executableTarget(
            name: "inventory-service", dependencies: ["Inventory", "Contracts", "ServiceKit"], path: "Sources/Executables/inventory-service"),
        .executableTarget(
            name: "notification-service", dependencies: ["Notification", "Contracts", "ServiceKit"], path: "Sources/Executables/notification-service"
        ),
        .executableTarget(name: "gateway-sim", dependencies: ["GatewaySim", "Contracts", "ServiceKit"], path: "Sources/Executables/gateway-sim"),
        .executableTarget(
            name: "orderly",
            dependencies: [
                "AMQP", "Postgres", "Messaging", "Contracts", "Chaos", "LocalRun", "Bench", "Provisioning", "OperatorKit", "Ingress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Executables/orderly"
        ),
        // The baseline for the publish benchmark: librabbitmq driven from a plain C loop.
        .executableTarget(
            name: "amqp-c-bench",
            dependencies: ["CRabbitMQ"],
            path: "Sources/Executables/amqp-c-bench"
        ),

        // Tests.
        .target(
            name: "TestSupport",
            dependencies: [
                "AMQP", "Postgres", "LocalRun", "Provisioning",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "Telemetry", "TestSupport"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", .product(name: "Tracing", package: "swift-distributed-tracing")]),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "ServiceKit", "Telemetry", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts", "Provisioning", "Ingress", "Order", "ServiceKit", "AMQP", "Messaging"]),
        // The operator's work on the real broker: parked messages shown and purged; the topology verified.
        .testTarget(name: "OperatorKitTests", dependencies: ["OperatorKit", "AMQP", "Contracts", "Messaging", "TestSupport"]),
        // Least privilege, proved against the real broker and database: each user and role refused what is not its own.
        .testTarget(
            name: "AccessTests",
            dependencies: [
                "AMQP", "Postgres", "Contracts", "Messaging", "Provisioning", "ServiceKit", "TestSupport",
                "Order", "Payment", "Inventory", "Notification",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "OrderTests",
            dependencies: ["Order", "ServiceKit", "Telemetry", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(name: "PaymentTests", dependencies: ["Payment", "GatewaySim", "Telemetry", "TestSupport"]),
        .testTarget(
            name: "InventoryTests",
            dependencies: ["Inventory", "Telemetry", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "NotificationTests",
            dependencies: [
                "Notification", "Telemetry", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "GatewaySimTests",
            dependencies: ["GatewaySim", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(name: "ChaosTests", dependencies: ["Chaos", "LocalRun", "TestSupport"]),
        // infra/dev's supervisor on its own, with shell commands in place of services.
        .testTarget(name: "InfraTests", dependencies: ["TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Contracts", "Messaging", "AMQP", "Postgres", "TestSupport", "LocalRun",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)

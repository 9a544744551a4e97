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
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // SHA-256 and HMAC-SHA256 over the system's libcrypto.
        .target(name: "Digests", dependencies: ["CLibCrypto"]),
        // What Swift cannot import from librabbitmq: the variadic login.
        .target(name: "CAMQPShim", dependencies: ["CRabbitMQ"]),

        // Duration in the units the libraries take, and a throttle for reports told at most every so often. Pure.
        .target(name: "Timing"),

        // Async clients over the C libraries.
        .target(
            name: "AMQP",
            dependencies: ["CAMQPShim", "CRabbitMQ", "Timing", .dequeModule, .logging]
        ),
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", "Timing", .logging]
        ),

        // W3C trace context and its tracer, and metric handles made once: what logs, traces and metrics share.
        .target(
            name: "Telemetry",
            dependencies: [.logging, .metrics, .tracing]
        ),

        // How a service's queues are named and wired, its retry tiers, the headers on retried and parked messages: pure.
        .target(name: "MessagingConventions", dependencies: ["Timing"]),
        // Envelope, outbox, inbox, retry tiers, consumer runner.
        .target(
            name: "Messaging",
            dependencies: [
                "AMQP", "MessagingConventions", "Postgres", "Telemetry", "Timing", .dequeModule, .logging, .metrics, .serviceLifecycle,
                .tracing,
            ]
        ),

        // The saga's shared vocabulary: exchanges, event types, payloads, queues, the order request and its rules. Pure.
        .target(name: "Contracts", dependencies: ["MessagingConventions"]),
        // Who may do what, from the catalog: broker users and permissions, database roles and schemas,
        // the secrets of a local installation, and the provisioning that applies them.
        .target(
            name: "Provisioning",
            dependencies: ["AMQP", "Contracts", "Digests", "Messaging", "MessagingConventions", "Postgres", .logging]
        ),
        // What every service process has: configuration, logging, metrics, health, startup.
        .target(
            name: "ServiceKit",
            dependencies: [
                "AMQP", "Contracts", "Messaging", "MessagingConventions", "Postgres", "Telemetry", .httpTypes, .hummingbird, .logging,
                .metrics, .nioCore, .prometheus, .serviceLifecycle, .tracing,
            ]
        ),

        // The services, each a library with a thin executable.
        .target(
            name: "Order",
            dependencies: [
                "AMQP", "Contracts", "Digests", "Messaging", "MessagingConventions", "Postgres", "ServiceKit", "Telemetry", "Timing",
                .asyncHTTPClient, .dequeModule, .httpTypes, .hummingbird, .logging, .metrics, .nioCore, .nioHTTP1,
                .serviceLifecycle, .tracing,
            ],
            // The operator's page: its HTML, style and script, served as one document.
            resources: [.copy("HTTP/Ops")]
        ),
        .target(
            name: "Payment",
            dependencies: [
                "AMQP", "Contracts", "Messaging", "MessagingConventions", "Postgres", "ServiceKit", "Telemetry", "Timing",
                .asyncHTTPClient, .logging, .metrics, .nioCore, .nioHTTP1, .serviceLifecycle,
            ]
        ),
        .target(
            name: "Inventory",
            dependencies: [
                "AMQP", "Contracts", "Messaging", "MessagingConventions", "Postgres", "ServiceKit", "Telemetry", .hummingbird, .logging,
                .metrics, .serviceLifecycle,
            ]),
        .target(
            name: "Notification",
            dependencies: [
                "AMQP", "Contracts", "Digests", "Messaging", "MessagingConventions", "Postgres", "ServiceKit", "Telemetry", "Timing",
                .asyncHTTPClient, .hummingbird, .logging, .metrics, .nioCore, .serviceLifecycle,
            ]
        ),
        .target(name: "GatewaySim", dependencies: ["Contracts", "Postgres", "ServiceKit", .hummingbird, .logging, .nioCore, .serviceLifecycle]),

        // A whole system run locally as processes: every service on free ports, in a virtual host and
        // a database of its own, and the broker and database of infra/dev.
        .target(
            name: "LocalRun",
            dependencies: [
                "AMQP", "Contracts", "Postgres", "Provisioning", "Supervision", "Timing", .asyncHTTPClient, .logging, .nioCore, .nioHTTP1,
            ]
        ),
        // Keeping a process running: the restart policy, and the supervisor that applies it.
        .target(name: "Supervision", dependencies: ["CSpawn", "Timing", .unixSignals]),
        .target(name: "CSpawn"),
        // The fault runner: load, faults, and the invariants checked afterwards.
        .target(
            name: "Chaos",
            dependencies: ["AMQP", "Contracts", "LocalRun", "Messaging", "MessagingConventions", "Postgres", "Timing", .logging]
        ),

        // The end-to-end bench: open-loop load through the intake, outcomes, CPU per process, limits.
        .target(
            name: "Bench",
            dependencies: [
                "AMQP", "Contracts", "LocalRun", "Messaging", "Postgres", "Timing", .asyncHTTPClient, .histogram, .logging, .nioCore,
            ]
        ),

        // The operator's work on the broker, as a library: parked messages listed, shown, replayed and purged;
        // the topology verified. No service library below it, so that a service's own API can offer the same.
        .target(
            name: "OperatorKit",
            dependencies: ["AMQP", "Contracts", "Messaging", "MessagingConventions"]
        ),
        // What other systems may publish on orderly.ingress, checked with the consuming services' own rules.
        .target(
            name: "Ingress",
            dependencies: ["Contracts"]
        ),

        // Executables.
        .executableTarget(name: "order-service", dependencies: ["Contracts", "Order", "ServiceKit"], path: "Sources/Executables/order-service"),
        .executableTarget(
            name: "payment-service", dependencies: ["Contracts", "Payment", "ServiceKit"], path: "Sources/Executables/payment-service"),
        .executableTarget(
            name: "inventory-service", dependencies: ["Contracts", "Inventory", "ServiceKit"], path: "Sources/Executables/inventory-service"),
        .executableTarget(
            name: "notification-service", dependencies: ["Contracts", "Notification", "ServiceKit"], path: "Sources/Executables/notification-service"
        ),
        .executableTarget(name: "orderly-supervise", dependencies: ["Supervision"], path: "Sources/Executables/orderly-supervise"),
        .executableTarget(name: "gateway-sim", dependencies: ["Contracts", "GatewaySim", "ServiceKit"], path: "Sources/Executables/gateway-sim"),
        .executableTarget(
            name: "orderly",
            dependencies: [
                "AMQP", "Bench", "Chaos", "Contracts", "Ingress", "LocalRun", "Messaging", "MessagingConventions", "OperatorKit",
                "Postgres", "Provisioning", "Supervision", "Timing", .argumentParser, .asyncHTTPClient, .logging,
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
            dependencies: ["AMQP", "LocalRun", "Postgres", "Provisioning", .logging, .serviceLifecycle],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport", .logging]),
        .testTarget(
            name: "MessagingTests",
            dependencies: ["AMQP", "Messaging", "MessagingConventions", "Postgres", "Telemetry", "TestSupport", .logging, .serviceLifecycle]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", .logging, .metrics, .tracing]),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: ["ServiceKit", "Telemetry", .httpTypes, .hummingbird, .hummingbirdTesting, .logging]
        ),
        // Reading the repository's contract documents (a YAML subset, schemas, sample payloads): pure.
        .target(name: "ContractDocuments", dependencies: ["Contracts"], path: "Tests/ContractDocuments"),
        // The vocabulary on its own: no broker, no database, no C library.
        .testTarget(name: "ContractsTests", dependencies: ["ContractDocuments", "Contracts", "Ingress", "MessagingConventions", "Timing"]),
        // The documents against what the code does: AsyncAPI and the envelope, OpenAPI and the HTTP edge, compose and the catalog.
        .testTarget(
            name: "SpecificationTests",
            dependencies: ["AMQP", "ContractDocuments", "Contracts", "Messaging", "MessagingConventions", "Order", "Provisioning", "ServiceKit"]
        ),
        // The operator's work on the real broker: parked messages shown and purged; the topology verified.
        .testTarget(
            name: "OperatorKitTests", dependencies: ["AMQP", "Contracts", "Messaging", "MessagingConventions", "OperatorKit", "TestSupport"]),
        // Least privilege, proved against the real broker and database: each user and role refused what is not its own.
        .testTarget(
            name: "AccessTests",
            dependencies: [
                "AMQP", "Contracts", "Inventory", "Messaging", "Notification", "Order", "Payment", "Postgres", "Provisioning",
                "ServiceKit", "TestSupport", .httpTypes, .hummingbird, .hummingbirdTesting, .logging,
            ]
        ),
        .testTarget(
            name: "OrderTests",
            dependencies: [
                "AMQP", "Contracts", "Messaging", "MessagingConventions", "Order", "Postgres", "ServiceKit", "Telemetry", "TestSupport",
                .httpTypes, .hummingbird, .hummingbirdTesting, .logging, .serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "PaymentTests",
            dependencies: [
                "AMQP", "Contracts", "GatewaySim", "Messaging", "MessagingConventions", "Payment", "Postgres", "Telemetry", "TestSupport",
                .serviceLifecycle,
            ]),
        .testTarget(
            name: "InventoryTests",
            dependencies: [
                "AMQP", "Contracts", "Inventory", "Messaging", "MessagingConventions", "Postgres", "ServiceKit", "Telemetry",
                "TestSupport", .hummingbird, .hummingbirdTesting, .serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "NotificationTests",
            dependencies: [
                "AMQP", "Contracts", "Digests", "Messaging", "MessagingConventions", "Notification", "Postgres", "Telemetry", "TestSupport",
                .hummingbird, .hummingbirdTesting, .logging, .nioCore, .serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "GatewaySimTests",
            dependencies: ["GatewaySim", "Postgres", "ServiceKit", "TestSupport", .hummingbird, .hummingbirdTesting]
        ),
        .testTarget(name: "ChaosTests", dependencies: ["Chaos", "LocalRun", "TestSupport"]),
        // infra/dev's supervisor on its own, with shell commands in place of services.
        .testTarget(name: "InfraTests", dependencies: ["Contracts", "LocalRun", "Supervision", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "AMQP", "Contracts", "LocalRun", "Messaging", "MessagingConventions", "Postgres", "TestSupport", .asyncHTTPClient,
                .logging, .nioCore, .nioFoundationCompat, .nioHTTP1,
            ],
            // Read from the source tree by schemathesis and by the CloudEvents SDK's run, not bundled.
            exclude: ["schemathesis.toml", "cloudevents_binary.py"]
        ),
    ]
)

// The products Orderly's targets import, each by the module's own name.
extension Target.Dependency {
    static var argumentParser: Self { .product(name: "ArgumentParser", package: "swift-argument-parser") }
    static var asyncHTTPClient: Self { .product(name: "AsyncHTTPClient", package: "async-http-client") }
    static var dequeModule: Self { .product(name: "DequeModule", package: "swift-collections") }
    static var histogram: Self { .product(name: "Histogram", package: "hdrhistogram-swift") }
    static var httpTypes: Self { .product(name: "HTTPTypes", package: "swift-http-types") }
    static var hummingbird: Self { .product(name: "Hummingbird", package: "hummingbird") }
    static var hummingbirdTesting: Self { .product(name: "HummingbirdTesting", package: "hummingbird") }
    static var logging: Self { .product(name: "Logging", package: "swift-log") }
    static var metrics: Self { .product(name: "Metrics", package: "swift-metrics") }
    static var nioCore: Self { .product(name: "NIOCore", package: "swift-nio") }
    static var nioFoundationCompat: Self { .product(name: "NIOFoundationCompat", package: "swift-nio") }
    static var nioHTTP1: Self { .product(name: "NIOHTTP1", package: "swift-nio") }
    static var prometheus: Self { .product(name: "Prometheus", package: "swift-prometheus") }
    static var serviceLifecycle: Self { .product(name: "ServiceLifecycle", package: "swift-service-lifecycle") }
    static var unixSignals: Self { .product(name: "UnixSignals", package: "swift-service-lifecycle") }
    static var tracing: Self { .product(name: "Tracing", package: "swift-distributed-tracing") }
}

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

        // Envelope, outbox, inbox, retry tiers, consumer runner.
        .target(
            name: "Messaging",
            dependencies: [
                "AMQP", "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Executables.
        .executableTarget(
            name: "orderly",
            dependencies: [
                "AMQP", "Postgres", "Messaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
                "AMQP", "Postgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "TestSupport"]),
    ]
)

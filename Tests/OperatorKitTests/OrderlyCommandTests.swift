import AMQP
import Foundation
import TestSupport
import Testing

/// The `orderly` executable itself, in a virtual host of its own on the test broker: exit statuses,
/// one-line errors, `--json`, and ingress events refused before anything is sent.
@Suite(.timeLimit(.minutes(2)))
struct OrderlyCommandTests {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the built `orderly` with `arguments` from an empty folder (so no operator.env is read), without ORDERLY_* variables.
    static func orderly(_ arguments: [String], input: String? = nil) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out")
        let errors = folder.appendingPathComponent("err")
        for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let process = Process()
        process.executableURL = TestEnvironment.binDirectory.appendingPathComponent("orderly")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ORDERLY_") }
        let feed = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : feed
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
                if let input {
                    feed.fileHandleForWriting.write(Data(input.utf8))
                    try feed.fileHandleForWriting.close()
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        return Result(
            status: status, output: String(decoding: try Data(contentsOf: output), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errors), as: UTF8.self))
    }

    /// The test broker's `rabbitmqctl`, as `--rabbitmqctl` takes it. The command runs without ORDERLY_*
    /// variables, so those that say where `infra/dev` keeps the test broker (when `./infra/dev test` moved it
    /// to a data folder and ports of its own) and which build runs it go with it.
    static var rabbitmqctl: String {
        let location = ["ORDERLY_DATA_DIR", "ORDERLY_AMQP_PORT", "ORDERLY_RABBIT_NODES", "ORDERLY_BIN_DIR"].compactMap { name in
            ProcessInfo.processInfo.environment[name].map { "\(name)=\($0)" }
        }
        let command = [TestEnvironment.infrastructure.script, "rabbitmqctl"]
        return (location.isEmpty ? command : ["env"] + location + command).joined(separator: " ")
    }

    /// Runs `body` with the operator's URL for a fresh virtual host, deleted afterwards.
    static func withVirtualHost(_ body: (String) async throws -> Void) async throws {
        let name = TestEnvironment.uniqueName("cli")
        let infrastructure = TestEnvironment.infrastructure
        try infrastructure.rabbitmqctl("add_vhost", name)
        let user = URLComponents(string: TestEnvironment.amqpURL)?.user ?? "guest"
        do {
            try infrastructure.rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
            var url = try #require(URLComponents(string: TestEnvironment.amqpURL))
            url.percentEncodedPath = "/" + name
            try await body(try #require(url.string))
        } catch {
            try? infrastructure.rabbitmqctl("delete_vhost", name)
            throw error
        }
        try infrastructure.rabbitmqctl("delete_vhost", name)
    }

    @Test func usageErrorsExit64WithOneLine() async throws {
        let unknown = try await Self.orderly(["dlq", "list", "shipping"])
        #expect(unknown.status == 64)
        #expect(unknown.errors.contains("unknown service 'shipping'"))
        let both = try await Self.orderly(["dlq", "replay", "payment", "--all", "--message-id", "x"])
        #expect(both.status == 64)
        #expect(both.errors.contains("--message-id ID or --all"))
        let unconfirmed = try await Self.orderly(["dlq", "purge", "payment", "--all"])
        #expect(unconfirmed.status == 64)
        #expect(unconfirmed.errors.contains("--yes"))
        let help = try await Self.orderly(["--help"])
        #expect(help.status == 0)
        #expect(help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("77 a login or permission refused"))
        #expect(!help.output.contains("dead "), "the former name stays hidden")
    }

    @Test func anUnreachableBrokerExits69AndARefusedLoginExits77() async throws {
        let unreachable = try await Self.orderly(["dlq", "list", "payment", "--amqp-url", "amqp://orderly:x@127.0.0.1:1/"])
        #expect(unreachable.status == 69, "\(unreachable.errors)")
        #expect(unreachable.errors.hasPrefix("orderly: error: cannot reach the broker"))
        #expect(unreachable.errors.split(separator: "\n").count == 1)

        var wrong = try #require(URLComponents(string: TestEnvironment.amqpURL))
        wrong.password = "not-the-password"
        let refused = try await Self.orderly(["topology", "show", "--amqp-url", try #require(wrong.string)])
        #expect(refused.status == 77, "\(refused.errors)")
        #expect(refused.errors.hasPrefix("orderly: error: the broker refused"))
    }

    @Test func verifyFindsAnEmptyVirtualHostMissingThenADeclaredOneAsDeclared() async throws {
        try await Self.withVirtualHost { url in
            let missing = try await Self.orderly(["topology", "verify", "--amqp-url", url, "--json", "--rabbitmqctl", Self.rabbitmqctl])
            #expect(missing.status == 1, "\(missing.errors)")
            let report = try JSONDecoder().decode(VerifyReport.self, from: Data(missing.output.utf8))
            #expect(!report.matches)
            #expect(report.items.contains { $0.name == "payment.retry.5s" && $0.status == "missing" })

            #expect(try await Self.orderly(["topology", "declare", "--amqp-url", url]).status == 0)
            let declared = try await Self.orderly(["topology", "verify", "--amqp-url", url, "--rabbitmqctl", Self.rabbitmqctl])
            #expect(declared.status == 0, "\(declared.output)\(declared.errors)")
            #expect(!declared.output.contains("missing") && declared.output.contains(" ok"))

            let shown = try await Self.orderly(["topology", "show", "--amqp-url", url, "--json"])
            #expect(shown.status == 0)
            #expect(shown.output.contains(#""name" : "payment.dead""#))
        }
    }

    struct VerifyReport: Decodable {
        var matches: Bool
        var items: [Item]

        struct Item: Decodable {
            var name: String
            var status: String
        }
    }

    @Test func anInvalidIngressEventIsRefusedWithItsFieldsAndNothingIsSent() async throws {
        try await Self.withVirtualHost { url in
            #expect(try await Self.orderly(["topology", "declare", "--amqp-url", url]).status == 0)
            let invalid =
                #"{"customer":{"id":"c-1","email":"ada@example.com"},"currency":"eur","items":[{"sku":"S","quantity":0,"unit_price_cents":5}],"payment":{"token":"tok_ok"}}"#
            let refused = try await Self.orderly(["publish", "order-requested", "--amqp-url", url], input: invalid)
            #expect(refused.status == 1)
            #expect(refused.errors.contains("data.currency: must be an ISO 4217 code"))
            #expect(refused.errors.contains("data.items[0].quantity: must be between 1 and 1000"))
            #expect(refused.output.isEmpty)

            let unreadable = try await Self.orderly(["publish", "order-requested", "/nonexistent/order.json", "--amqp-url", url])
            #expect(unreadable.status == 66, "\(unreadable.errors)")

            let emptySKU = try await Self.orderly(["publish", "stock-adjusted", "--sku", "", "--delta", "-2", "--amqp-url", url])
            #expect(emptySKU.status == 1)
            #expect(emptySKU.errors.contains("data.sku: must not be empty"))

            let valid = invalid.replacingOccurrences(of: "eur", with: "EUR").replacingOccurrences(of: #""quantity":0"#, with: #""quantity":1"#)
            let published = try await Self.orderly(["publish", "order-requested", "--amqp-url", url, "--event-id", "ev-1"], input: valid)
            #expect(published.status == 0, "\(published.errors)")
            #expect(published.output.contains("published order.requested ev-1"))

            let dlq = try await Self.orderly(["dlq", "list", "order", "--amqp-url", url, "--json"])
            #expect(dlq.status == 0)
            #expect(dlq.output.contains(#""count" : 0"#))
            var configuration = try AMQPConfiguration(url: url)
            configuration.connectionName = "cli-tests"
            let ready = try await AMQPConnection.withConnection(configuration: configuration, logger: TestEnvironment.logger("cli")) {
                try await $0.status(ofQueue: "order").messageCount
            }
            #expect(ready == 1, "only the valid event reached the order queue")
        }
    }
}

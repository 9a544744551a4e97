import Foundation
import TestSupport
import Testing

/// order-service's HTTP edge as `docs/openapi.yaml` says, judged by a tool that reads only the document:
/// schemathesis generates requests from every operation's schemas, valid and not, sends them to a running
/// order-service and checks each answer against the document (status codes, content types, headers,
/// response schemas) and against HTTP itself (no 5xx, 405 for a method a path does not have, …).
@Suite("EndToEnd OpenAPI conformance", .runningSystem(), .timeLimit(.minutes(5)))
struct OpenAPIConformanceEndToEndTests {
    /// schemathesis, as the test command installs it (`ORDERLY_SCHEMATHESIS`), or from the data folder.
    static var schemathesis: URL {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_SCHEMATHESIS"] { return URL(fileURLWithPath: path) }
        let data =
            ProcessInfo.processInfo.environment["ORDERLY_DATA_DIR"].map { URL(fileURLWithPath: $0) }
            ?? TestEnvironment.repositoryRoot.appendingPathComponent(".data")
        return data.appendingPathComponent("tools/schemathesis/bin/schemathesis")
    }

    /// Each service with the operations `docs/openapi.yaml` tags as its own; health, metrics and the
    /// administrative routes, which every service serves from the same code, on order-service.
    static let services = [("order-service", ["orders", "operations"]), ("inventory-service", ["stock"]), ("gateway-sim", ["gateway"])]

    @Test(arguments: services)
    func everyAnswerToEveryGeneratedRequestIsOneTheContractAllows(service: String, tags: [String]) async throws {
        let system = try #require(SystemUnderTest.current)
        let tool = Self.schemathesis
        try #require(
            FileManager.default.isExecutableFile(atPath: tool.path),
            "schemathesis is not at \(tool.path): ./infra/dev test installs it (or set ORDERLY_SCHEMATHESIS)")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let root = TestEnvironment.repositoryRoot
        let run = try await Command.run(
            tool,
            [
                "--config-file", root.appendingPathComponent("Tests/EndToEndTests/schemathesis.toml").path,
                "run", root.appendingPathComponent("docs/openapi.yaml").path,
                "--url", system.local.url(.init(service)),
                "--header", "X-API-Key: \(try #require(system.apiKey))",
                "--header", "X-Admin-Key: \(try #require(system.adminKey))",
                "--checks", "all",
                "--max-examples", "30",
                // A loaded machine (a release build beside the suite) has answered the parking routes,
                // which read the broker, in more than schemathesis's default of 10 s: a slow answer is
                // not a wrong one, so the bound is generous and the check is what the answer says.
                "--request-timeout", "60",
                "--seed", "20261202",
                "--no-color",
            ] + tags.flatMap { ["--include-tag", $0] },
            environment: ["HOME": home.path],
            timeout: .seconds(900))
        #expect(run.status == 0, "schemathesis found answers of \(service) that docs/openapi.yaml does not allow:\n\(run.stdout)\n\(run.stderr)")
    }
}

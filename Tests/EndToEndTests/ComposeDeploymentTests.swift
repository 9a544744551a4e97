import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `compose.yaml` booted for real, as its users run it: images built from `infra/docker/Dockerfile`,
/// `docker-compose up -d --build` with a `.env` from `orderly system env`, every healthcheck waited
/// for, README's walkthrough against the containers, a service container crashed (its restart policy
/// brings it back and nothing is lost), the stack stopped under load (every service drains and exits
/// 0 within its grace period) and started again (the volumes keep every order), then `down -v`.
///
/// It builds five images and boots seven containers, so it runs only when asked for:
/// `./infra/dev test compose` (`ORDERLY_COMPOSE_TESTS=1`), which also serves Podman's Docker API
/// where no Docker engine runs.
@Suite("Compose deployment", .serialized, .enabled(if: ComposeStack.enabled, "./infra/dev test compose runs it"), .timeLimit(.minutes(60)))
struct ComposeDeploymentTests {
    @Test func theStackBootsServesSurvivesACrashStopsCleanlyAndKeepsItsOrders() async throws {
        let stack = try await ComposeStack.prepare()
        defer { try? FileManager.default.removeItem(at: stack.folder) }
        do {
            try await boot(stack)
            try await walkThrough(stack)
            let crashed = try await crashAService(stack)
            let accepted = try await stopUnderLoad(stack)
            try await startAgain(stack, keeping: crashed + accepted)
        } catch {
            let logs = try await stack.compose(["logs", "--no-color", "--tail", "40"])
            Issue.record("the run stopped (\(type(of: error))); the containers' last lines:\n\(logs.stdout)")
        }
        let down = try await stack.compose(["down", "-v"], timeout: .seconds(300))
        #expect(down.status == 0, "docker-compose down -v: \(down.stderr)")
    }

    /// `up -d --build`, then every container healthy.
    func boot(_ stack: ComposeStack) async throws {
        let up = try await stack.compose(["up", "-d", "--build"], timeout: .seconds(2700))
        try #require(up.status == 0, "docker-compose up: \(up.stdout.suffix(4000))\n\(up.stderr.suffix(4000))")
        try await stack.awaitHealthy()
    }

    /// README's walkthrough, every block as written, against the published ports.
    func walkThrough(_ stack: ComposeStack) async throws {
        let mail = try await stack.docker(["volume", "inspect", "--format", "{{.Mountpoint}}", "\(stack.project)_mail"])
        try #require(mail.status == 0, "the mail volume: \(mail.stderr)")
        let checkout = try Walkthrough.checkout(
            at: stack.folder.appendingPathComponent("checkout"), apiKey: try stack.value("ORDERLY_API_KEYS"),
            mail: URL(fileURLWithPath: mail.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            operatorEnvironment: try stack.operatorEnvironment)
        let readme = try String(contentsOf: WalkthroughEndToEndTests.readme, encoding: .utf8)
        await Walkthrough.run(
            Walkthrough.blocks(in: readme), in: checkout,
            addresses: ["ORDERS": stack.url("order-service"), "STOCK": stack.url("inventory-service"), "GATEWAY": stack.url("gateway-sim")])
        let stocked = try await Walkthrough.run(
            ".build/release/orderly stock set \(Self.sku) 100000", in: checkout, environment: ["PATH": "/usr/bin:/bin", "HOME": checkout.path])
        try #require(stocked.status == 0, "orderly stock set: \(stocked.errors)")
        try await eventually(within: .seconds(60), every: .milliseconds(500), "stock for the load") {
            try await stack.request(.GET, "inventory-service", path: "/v1/stock/\(Self.sku)").status == 200
        }
    }

    static let sku = "SKU-COMPOSE"

    /// Places an order and returns its id, or `nil` when the intake did not accept it.
    func place(_ stack: ComposeStack) async -> String? {
        guard let answer = try? await stack.request(.POST, path: "/v1/orders", body: Checkout.body(sku: Self.sku, quantity: 1)),
            answer.status == 202, let order = try? Checkout.decoder.decode(Checkout.Order.self, from: answer.body)
        else { return nil }
        return order.id
    }

    /// payment-service's process killed from outside its container (SIGKILL, as a crash), with orders
    /// in flight: its restart policy brings it back and every order completes.
    func crashAService(_ stack: ComposeStack) async throws -> [String] {
        var orders: [String] = []
        for _ in 0..<20 { if let id = await place(stack) { orders.append(id) } }
        #expect(orders.count == 20, "the intake accepted \(orders.count) of 20 orders")
        let restarts = try await stack.inspect("payment-service", "{{.RestartCount}}")
        let pid = try #require(Int32(try await stack.inspect("payment-service", "{{.State.Pid}}")), "payment-service's process")
        #expect(kill(pid, SIGKILL) == 0, "kill -9 \(pid): errno \(errno)")
        try await eventually(within: .seconds(120), every: .milliseconds(500), "payment-service restarted by its policy") {
            try await stack.inspect("payment-service", "{{.RestartCount}}") != restarts
        }
        try await stack.awaitHealthy(["payment-service"])
        try await expectCompleted(orders, in: stack)
        return orders
    }

    /// `docker-compose stop` while orders keep arriving: every service exits by itself with status 0
    /// before compose would kill it. Returns the orders the intake accepted.
    func stopUnderLoad(_ stack: ComposeStack) async throws -> [String] {
        let load = Task {
            var accepted: [String] = []
            var refusals = 0
            while !Task.isCancelled, refusals < 20 {
                if let id = await place(stack) { accepted.append(id) } else { refusals += 1 }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return accepted
        }
        try await Task.sleep(for: .seconds(5))
        let stop = try await stack.compose(["stop"], timeout: .seconds(300))
        load.cancel()
        let accepted = await load.value
        #expect(stop.status == 0, "docker-compose stop: \(stop.stderr)")
        #expect(accepted.count >= 20, "the intake accepted \(accepted.count) orders before the stop")
        for service in ComposeStack.applications {
            let ended = try await stack.inspect(service, "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}")
            #expect(ended == "exited 0 false", "\(service) after docker-compose stop: \(ended)")
        }
        return accepted
    }

    /// `docker-compose start`: healthy again, and every order accepted before (the crash's and the
    /// stop's) is there and completes, charged once.
    func startAgain(_ stack: ComposeStack, keeping orders: [String]) async throws {
        let start = try await stack.compose(["start"], timeout: .seconds(300))
        try #require(start.status == 0, "docker-compose start: \(start.stderr)")
        try await stack.awaitHealthy()
        try await expectCompleted(orders, in: stack)
        for id in orders.prefix(50) {
            let ledger = try await stack.request(.GET, "gateway-sim", path: "/v1/ledger?order_id=\(id)")
            let charges = try Checkout.decoder.decode(Checkout.Ledger.self, from: ledger.body).successfulCharges
            #expect(charges.count == 1, "order \(id) was charged \(charges.count) times")
        }
    }

    /// Every order reaches COMPLETED within a few minutes.
    func expectCompleted(_ orders: [String], in stack: ComposeStack) async throws {
        let deadline = ContinuousClock.now + .seconds(240)
        var pending = Set(orders)
        while !pending.isEmpty, ContinuousClock.now < deadline {
            for id in pending {
                guard let answer = try? await stack.request(.GET, path: "/v1/orders/\(id)"), answer.status == 200,
                    let order = try? Checkout.decoder.decode(Checkout.Order.self, from: answer.body), Checkout.terminal.contains(order.status)
                else { continue }
                #expect(order.status == "COMPLETED", "order \(id) ended \(order.status): \(order.failureReason ?? "")")
                pending.remove(id)
            }
            if !pending.isEmpty { try await Task.sleep(for: .seconds(1)) }
        }
        #expect(pending.isEmpty, "\(pending.count) of \(orders.count) orders did not end: \(pending.sorted().prefix(5))")
    }
}

import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization
import Timing

/// Orders offered at a fixed rate, whatever the system answers: each request leaves at its planned
/// time, and its latencies count from that time, so that a slow answer cannot hide the requests it
/// delayed (no coordinated omission).
final class OpenLoopLoad: Sendable {
    struct Outcome: Sendable {
        var intended: ContinuousClock.Instant
        var status: String
    }

    let intakeURLs: [String]
    let apiKey: String?
    let client: HTTPClient
    let mix: OrderMix
    let intake = LatencyRecorder()
    let timeline: Timeline
    /// When each accepted order was meant to be sent, by order id, for its end-to-end latency.
    private let intended = Mutex<[String: ContinuousClock.Instant]>([:])
    private let counts = Mutex<[String: Int]>([:])
    private let inFlight = Atomic<Int>(0)
    let maxInFlight: Int

    init(intakeURLs: [String], apiKey: String?, mix: OrderMix, timeline: Timeline, maxInFlight: Int = 4096) {
        self.intakeURLs = intakeURLs
        self.apiKey = apiKey
        self.mix = mix
        self.timeline = timeline
        self.maxInFlight = maxInFlight
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async { try? await client.shutdown() }

    /// How many requests ended how: `accepted`, `shed` (503), `rejected` (other 4xx), `failed` (5xx, errors), `not_sent`.
    var outcomes: [String: Int] { counts.withLock { $0 } }

    /// Takes the planned send time of an accepted order (once).
    func takeIntended(_ orderID: String) -> ContinuousClock.Instant? { intended.withLock { $0.removeValue(forKey: orderID) } }

    /// Orders accepted and not yet ended.
    var open: Int { intended.withLock { $0.count } }

    /// Offers `rate` orders per second for `duration`, starting at `start`; `record` says whether
    /// this phase counts (a warm-up does not). Returns when every request has been answered.
    func offer(rate: Double, for duration: Duration, from start: ContinuousClock.Instant, record: Bool, numbering first: Int) async {
        let total = Int(rate * duration.seconds)
        await withDiscardingTaskGroup { group in
            for index in 0..<total {
                let at = start + .seconds(Double(index) / rate)
                try? await Task.sleep(until: at)
                guard inFlight.add(1, ordering: .relaxed).newValue <= maxInFlight else {
                    inFlight.subtract(1, ordering: .relaxed)
                    count("not_sent")
                    continue
                }
                group.addTask {
                    await self.send(number: first + index, intended: at, record: record)
                    self.inFlight.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    private func send(number: Int, intended at: ContinuousClock.Instant, record: Bool) async {
        var request = HTTPClientRequest(url: intakeURLs[number % intakeURLs.count] + "/v1/orders")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: "bench-\(mix.run)-\(number)")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(ByteBuffer(string: mix.body(number: number)))
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 20)
            let now = ContinuousClock.now
            switch response.status.code {
            case 202:
                guard let id = Self.orderID(body) else { return count("failed") }
                if record {
                    intake.record(now - at)
                    timeline.accepted(at: now)
                    intended.withLock { $0[id] = at }
                }
                count("accepted")
            case 503:
                if record { timeline.shed(at: now) }
                count("shed")
            case 400..<500: count("rejected")
            default: count("failed")
            }
        } catch {
            count("failed")
        }
    }

    private func count(_ outcome: String) { counts.withLock { $0[outcome, default: 0] += 1 } }

    static func orderID(_ body: ByteBuffer) -> String? {
        struct Accepted: Decodable { var id: String }
        return try? JSONDecoder().decode(Accepted.self, from: Data(body.readableBytesView)).id
    }
}

/// The realistic mix of a bench: mostly `tok_ok`, some declined cards and stock-outs, a few `tok_flaky`.
struct OrderMix: Sendable {
    let run: String
    let skus: [String]
    let scarceSKU: String

    func body(number: Int) -> String {
        // Every 200 orders, spread: 187 tok_ok, 6 declined, 6 for the scarce SKU (most end refunded), 1 flaky. A
        // flaky order waits out two retry tiers (1 s, then 5 s), so there are fewer of them than 1 in 100: the
        // end-to-end p99 measures the saga, not the length of the tiers.
        let slot = (number &* 37) % 200
        let token =
            switch slot {
            case 187..<193: "tok_decline"
            case 199: "tok_flaky"
            default: "tok_ok"
            }
        let sku = (193..<199).contains(slot) ? scarceSKU : skus[number % skus.count]
        return """
            {"customer":{"id":"bench-\(number % 997)","email":"bench@example.com"},"currency":"EUR",\
            "items":[{"sku":"\(sku)","quantity":1,"unit_price_cents":\(100 + number % 900)}],"payment":{"token":"\(token)"}}
            """
    }
}

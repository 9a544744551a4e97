import Foundation

/// What a fault run does: the orders it places and the faults it injects, decided up front from a
/// seed, so that a run can be repeated and a report says exactly what was thrown at the system.
package struct ChaosPlan: Sendable, Hashable, Codable {
    /// One order the run places.
    package struct Order: Sendable, Hashable, Codable {
        package enum Channel: String, Sendable, Hashable, Codable {
            /// `POST /v1/orders` with an `Idempotency-Key`.
            case http
            /// `order.requested` on `orderly.ingress`.
            case ingress
        }

        package enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            case ok, declined, flaky, slow
            case stockOut = "stock_out"
            case ingress, replayed
            case duplicateIngress = "duplicate_ingress"
        }

        /// Unique in the run; also names the order's customer, so every order can be found by it.
        package var index: Int
        package var kind: Kind
        package var channel: Channel
        package var token: String
        package var sku: String
        package var quantity: Int
        package var unitPriceCents: Int
        /// When to place it, from the start of the load.
        package var at: Duration

        package init(
            index: Int, kind: Kind, channel: Channel, token: String, sku: String, quantity: Int, unitPriceCents: Int, at: Duration
        ) {
            self.index = index
            self.kind = kind
            self.channel = channel
            self.token = token
            self.sku = sku
            self.quantity = quantity
            self.unitPriceCents = unitPriceCents
            self.at = at
        }

        package var totalCents: Int { quantity * unitPriceCents }
        /// Sent twice: the same `Idempotency-Key` and body again, or the same ingress event id again.
        package var sentTwice: Bool { kind == .replayed || kind == .duplicateIngress }
    }

    /// One fault the run injects.
    package struct Fault: Sendable, Hashable, Codable {
        package enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// SIGKILL of a service instance, restarted after `pause`.
            case kill
            /// SIGTERM of a service instance under load: it must finish what it has in flight and exit 0.
            case terminate
            /// RabbitMQ stopped, and started again after `pause`.
            case brokerRestart = "broker_restart"
            /// PostgreSQL stopped, and started again after `pause`.
            case databaseRestart = "database_restart"
            /// Events already handled published again.
            case duplicatePublish = "duplicate_publish"
            /// Malformed, unknown, wrongly shaped, oversized and hostile messages on every queue and the ingress.
            case poison
            /// The payment gateway stopped for `pause`.
            case gatewayDown = "gateway_down"
            /// The RabbitMQ node that leads the most work queues stopped, and started again after `pause`,
            /// while the rest of the cluster goes on. Needs a cluster whose quorum queues have replicas.
            case brokerNodeLoss = "broker_node_loss"

            /// Whether it needs a RabbitMQ cluster: a plan of every kind leaves it out unless asked for.
            package var needsCluster: Bool { self == .brokerNodeLoss }
        }

        package var kind: Kind
        /// The service it hits, for kills and terminations.
        package var target: String?
        package var at: Duration
        package var pause: Duration
    }

    /// The SKUs with plenty of stock, and how much each has at the start.
    package var plentifulSKUs: [String: Int]
    /// The SKU that runs out: orders for it past its stock end refunded.
    package var scarceSKU: String
    package var scarceStock: Int
    /// Stock added to the scarce SKU during the run, each by one `stock.adjusted` (one of them published twice).
    package var restocks: [Int]
    package var orders: [Order]
    package var faults: [Fault]
    /// How long the load lasts.
    package var duration: Duration

    /// The initial stock plus every adjustment, per SKU: what available + reserved must add up to.
    package var stockTotals: [String: Int] {
        var totals = plentifulSKUs
        totals[scarceSKU] = scarceStock + restocks.reduce(0, +)
        return totals
    }
}

extension ChaosPlan {
    /// The services a fault run hits, in the order kills go round.
    package static let targets = ["payment-service", "inventory-service", "notification-service", "order-service"]

    /// A plan of `count` orders at `rate` per second, with every fault kind at least once (every
    /// service killed in turn) and `extraFaults` more drawn at random, all from `seed`.
    ///
    /// - Parameter kinds: only these faults instead, each once in the order given (kills and
    ///   terminations going round the services), and the extra ones drawn from them; `nil` for one of
    ///   every kind a single broker can take.
    package static func make(orders count: Int, rate: Double, extraFaults: Int, seed: UInt64, run: String, faults kinds: [Fault.Kind]? = nil)
        -> ChaosPlan
    {
        var random = SeededRandom(seed: seed)
        let duration = Duration.milliseconds(Int64(Double(count) / rate * 1000))
        let skus = (1...4).map { "CHAOS-\(run)-\($0)" }
        let scarce = "CHAOS-\(run)-SCARCE"
        let mix: [(Order.Kind, Int)] = [
            (.ok, 64), (.declined, 8), (.flaky, 7), (.slow, 2), (.stockOut, 7), (.ingress, 5), (.replayed, 4), (.duplicateIngress, 3),
        ]
        let orders = (0..<count).map { index -> Order in
            let kind = random.weighted(mix)
            let token: String =
                switch kind {
                case .declined: "tok_decline"
                case .flaky: "tok_flaky"
                case .slow: "tok_slow"
                default: "tok_ok"
                }
            let channel: Order.Channel = kind == .ingress || kind == .duplicateIngress ? .ingress : .http
            let sku = kind == .stockOut ? scarce : skus[random.int(in: 0..<skus.count)]
            return Order(
                index: index, kind: kind, channel: channel, token: token, sku: sku, quantity: random.int(in: 1...3),
                unitPriceCents: random.int(in: 100...9_999), at: .milliseconds(Int64(Double(index) / rate * 1000)))
        }
        // Every kind once, spread over the load; kills go round the services; then extra random faults.
        var faults: [Fault] = []
        let standard: [(Fault.Kind, String?)] =
            targets.map { (.kill, $0) } + [
                (.terminate, "payment-service"), (.brokerRestart, nil), (.poison, nil), (.databaseRestart, nil), (.duplicatePublish, nil),
                (.gatewayDown, nil),
            ]
        let scheduled: [(Fault.Kind, String?)] =
            kinds?.enumerated().map { number, kind in (kind, kind == .kill || kind == .terminate ? targets[number % targets.count] : nil) }
            ?? standard
        for (position, (kind, target)) in scheduled.enumerated() {
            let at = duration * ((Double(position) + 0.5) / Double(scheduled.count + 1))
            faults.append(Fault(kind: kind, target: target, at: at, pause: pause(for: kind, random: &random)))
        }
        let randomKinds: [Fault.Kind] =
            kinds ?? [.kill, .kill, .kill, .terminate, .duplicatePublish, .brokerRestart, .databaseRestart, .gatewayDown]
        for _ in 0..<(randomKinds.isEmpty ? 0 : extraFaults) {
            let kind = randomKinds[random.int(in: 0..<randomKinds.count)]
            let target = kind == .kill || kind == .terminate ? targets[random.int(in: 0..<targets.count)] : nil
            faults.append(Fault(kind: kind, target: target, at: duration * random.fraction(), pause: pause(for: kind, random: &random)))
        }
        faults.sort { $0.at < $1.at }
        return ChaosPlan(
            plentifulSKUs: Dictionary(uniqueKeysWithValues: skus.map { ($0, count * 3) }), scarceSKU: scarce,
            scarceStock: max(5, count / 40), restocks: [max(2, count / 100), 3], orders: orders, faults: faults, duration: duration)
    }

    private static func pause(for kind: Fault.Kind, random: inout SeededRandom) -> Duration {
        switch kind {
        case .kill, .terminate: .milliseconds(Int64(random.int(in: 500...3000)))
        case .brokerRestart, .databaseRestart: .seconds(Int64(random.int(in: 2...5)))
        // Long enough for every client of the node to have moved to another, and for work to pile up on the node's return.
        case .brokerNodeLoss: .seconds(Int64(random.int(in: 8...12)))
        case .gatewayDown: .seconds(Int64(random.int(in: 5...10)))
        case .duplicatePublish, .poison: .zero
        }
    }
}

/// A seeded generator (SplitMix64): the same seed gives the same plan.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(in range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func fraction() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func weighted<T>(_ choices: [(T, Int)]) -> T {
        var pick = int(in: 0..<choices.map(\.1).reduce(0, +))
        for (choice, weight) in choices {
            if pick < weight { return choice }
            pick -= weight
        }
        return choices[choices.count - 1].0
    }
}

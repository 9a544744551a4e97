import Contracts

/// What a reservation decides for a paid order: hold every line, or hold nothing.
///
/// A pure function of the requested lines and the stock on hand, so that the rule that matters
/// most — never oversell, all lines or none — is tested without a database. The caller locks the
/// stock rows of the requested SKUs before asking, and applies the decision in the same transaction.
package enum ReservationDecision: Sendable, Hashable {
    /// Hold these quantities, one per SKU, sorted by SKU.
    case reserve([StockHold])
    /// Hold nothing. `missing` lists the SKUs that were short (sorted); it is empty when the lines
    /// themselves were unusable, which `reason` then says.
    case reject(missing: [String], reason: String)

    /// Decides a reservation.
    ///
    /// - Parameters:
    ///   - lines: the order's lines; several lines of one SKU add up.
    ///   - available: the available quantity per SKU; a SKU that is absent counts as 0.
    package static func decide(lines: [OrderLine], available: [String: Int]) -> ReservationDecision {
        if let problem = problem(in: lines) {
            return .reject(missing: [], reason: problem)
        }
        let requested = requestedHolds(lines)
        let missing = requested.filter { available[$0.sku, default: 0] < $0.quantity }.map(\.sku)
        guard missing.isEmpty else {
            return .reject(missing: missing, reason: "insufficient stock for \(missing.joined(separator: ", "))")
        }
        return .reserve(requested)
    }

    /// Decides reservations one after another against one stock: each sees what the ones before it
    /// left, so that a batch of paid orders never holds more than was there.
    ///
    /// - Parameters:
    ///   - orders: each order's lines, in the order the reservations are to be made.
    ///   - available: the available quantity per SKU before the first; a SKU that is absent counts as 0.
    package static func decideInTurn(_ orders: [[OrderLine]], available: [String: Int]) -> [ReservationDecision] {
        var available = available
        return orders.map { lines in
            let decision = decide(lines: lines, available: available)
            if case .reserve(let holds) = decision {
                for hold in holds { available[hold.sku, default: 0] -= hold.quantity }
            }
            return decision
        }
    }

    /// The quantity asked for each SKU, lines of one SKU summed, sorted by SKU — the order in which
    /// the stock rows are locked, so that two reservations never wait on each other in a cycle.
    package static func requestedHolds(_ lines: [OrderLine]) -> [StockHold] {
        var quantities: [String: Int] = [:]
        for line in lines { quantities[line.sku, default: 0] += line.quantity }
        return quantities.map { StockHold(sku: $0.key, quantity: $0.value) }.sorted { $0.sku < $1.sku }
    }

    /// Why the lines cannot be reserved at all, or `nil` when they are well formed.
    static func problem(in lines: [OrderLine]) -> String? {
        if lines.isEmpty { return "the order has no lines" }
        if let line = lines.first(where: { $0.sku.isEmpty }) { return "a line has an empty SKU (quantity \(line.quantity))" }
        if let line = lines.first(where: { $0.quantity <= 0 }) { return "the line of \(line.sku) has quantity \(line.quantity); it must be positive" }
        return nil
    }

    /// How the order remembers this decision.
    package var reservation: InventoryOrder.Reservation {
        if case .reserve = self { .reserved } else { .rejected }
    }

    /// Why nothing is held, or `nil` when the lines are held.
    package var reason: String? {
        if case .reject(_, let reason) = self { reason } else { nil }
    }
}

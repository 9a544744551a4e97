/// The rules an order request must meet, as a pure function that names every offending field.
///
/// Shared by the HTTP intake and the `order.requested` ingress event, so both accept the same orders.
package enum OrderValidation {
    package static let maxCustomerIDLength = 128
    package static let maxEmailLength = 254
    package static let maxLines = 100
    package static let maxSKULength = 64
    package static let quantityRange = 1...1000
    package static let unitPriceRange = 0...10_000_000
    package static let maxTotalCents = 1_000_000_000
    /// The smallest order total: the gateway charges no amount below one cent.
    package static let minTotalCents = 1

    /// Every violation in `request`, in the order of the fields; empty when the request is valid.
    package static func validate(_ request: OrderRequest) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func fail(_ field: String, _ message: String) { violations.append(FieldViolation(field: field, message: message)) }
        /// Checks a text field: a control character is its violation, else what `rule` says; true when valid.
        @discardableResult
        func text(_ field: String, _ value: String, _ rule: (String) -> String?) -> Bool {
            guard let message = hasControlCharacters(value) ? controlCharacterMessage : rule(value) else { return true }
            fail(field, message)
            return false
        }

        text("customer.id", request.customer.id) { id in
            isBlank(id) ? "must not be empty" : id.count > maxCustomerIDLength ? "must be at most \(maxCustomerIDLength) characters" : nil
        }
        text("customer.email", request.customer.email) { isPlausibleEmail($0) ? nil : "must be an email address like name@example.com" }
        text("currency", request.currency) { isCurrencyCode($0) ? nil : "must be an ISO 4217 code of 3 uppercase letters, like EUR" }
        if request.items.isEmpty || request.items.count > maxLines {
            fail("items", "must have between 1 and \(maxLines) lines")
        }
        var linesValid = true
        for (index, line) in request.items.enumerated() {
            let path = "items[\(index)]"
            let skuValid = text("\(path).sku", line.sku) { sku in
                isBlank(sku) ? "must not be empty" : sku.count > maxSKULength ? "must be at most \(maxSKULength) characters" : nil
            }
            if !skuValid { linesValid = false }
            if !quantityRange.contains(line.quantity) {
                fail("\(path).quantity", "must be between \(quantityRange.lowerBound) and \(quantityRange.upperBound)")
                linesValid = false
            }
            if !unitPriceRange.contains(line.unitPriceCents) {
                fail("\(path).unit_price_cents", "must be between \(unitPriceRange.lowerBound) and \(unitPriceRange.upperBound)")
                linesValid = false
            }
        }
        if linesValid, !request.items.isEmpty, request.items.count <= maxLines, let total = totalCents(of: request.items) {
            if total > maxTotalCents {
                fail("items", "the order total of \(total) cents exceeds the maximum of \(maxTotalCents) cents")
            } else if total < minTotalCents {
                // The saga charges every order; an order with nothing to charge has no payment to wait for.
                fail("items", "the order total must be at least \(minTotalCents) cent; free orders are not taken")
            }
        }
        text("payment.token", request.payment.token) { isBlank($0) ? "must not be empty" : nil }
        return violations
    }

    /// The sum of the lines, or `nil` if it does not fit an `Int` (only possible for invalid lines).
    package static func totalCents(of lines: [OrderLine]) -> Int? {
        var total = 0
        for line in lines {
            let (amount, overflowA) = line.quantity.multipliedReportingOverflow(by: line.unitPriceCents)
            let (sum, overflowB) = total.addingReportingOverflow(amount)
            if overflowA || overflowB { return nil }
            total = sum
        }
        return total
    }

    /// Whether `key` may be an `Idempotency-Key`: 1 to 255 printable ASCII characters.
    package static func isValidIdempotencyKey(_ key: String) -> Bool {
        let bytes = key.utf8
        return (1...255).contains(bytes.count) && bytes.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// What a text field with a control character is told: none belongs in an id, an address, a code, a SKU
    /// or a token, and PostgreSQL cannot store U+0000 at all.
    package static let controlCharacterMessage = "must not contain control characters (U+0000 to U+001F, U+007F to U+009F)"

    /// Whether `text` holds a control character (Unicode's general category Cc).
    package static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    static func isCurrencyCode(_ text: String) -> Bool {
        text.utf8.count == 3 && text.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// One `@` between a non-empty local part and a dotted domain, no whitespace: plausible, not proven.
    static func isPlausibleEmail(_ text: String) -> Bool {
        guard text.count <= maxEmailLength, !text.contains(where: { $0.isWhitespace }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }
}

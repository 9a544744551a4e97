import Contracts
import Foundation
import Testing

@Suite("Order request validation", .timeLimit(.minutes(1)))
struct OrderValidationTests {
    static let valid = OrderRequest(
        customer: Customer(id: "c-42", email: "ada@example.com"), currency: "EUR",
        items: [OrderLine(sku: "SKU-001", quantity: 2, unitPriceCents: 1250)], payment: PaymentMethod(token: "tok_ok")
    )

    func fields(_ request: OrderRequest) -> [String] { OrderValidation.validate(request).map(\.field) }

    @Test func aValidRequestHasNoViolations() {
        #expect(OrderValidation.validate(Self.valid).isEmpty)
    }

    @Test func everyOffendingFieldIsNamedAtOnce() {
        let request = OrderRequest(
            customer: Customer(id: "", email: "not-an-email"), currency: "eur",
            items: [
                OrderLine(sku: "", quantity: 0, unitPriceCents: -1),
                OrderLine(sku: String(repeating: "x", count: 65), quantity: 1001, unitPriceCents: 10_000_001),
            ],
            payment: PaymentMethod(token: " ")
        )
        #expect(
            fields(request) == [
                "customer.id", "customer.email", "currency", "items[0].sku", "items[0].quantity", "items[0].unit_price_cents",
                "items[1].sku", "items[1].quantity", "items[1].unit_price_cents", "payment.token",
            ]
        )
    }

    @Test(arguments: ["\u{0}", "\n", "\u{1B}", "\u{7F}", "\u{85}"])
    func aControlCharacterInAnyTextFieldNamesThatFieldAlone(_ control: String) {
        var request = Self.valid
        request.customer.id = "c\(control)42"
        request.customer.email = "ada\(control)@example.com"
        request.currency = "EU\(control)"
        request.items[0].sku = "SKU\(control)001"
        request.payment.token = "tok_ok\(control)"
        let violations = OrderValidation.validate(request)
        #expect(violations.map(\.field) == ["customer.id", "customer.email", "currency", "items[0].sku", "payment.token"])
        #expect(violations.allSatisfy { $0.message == OrderValidation.controlCharacterMessage })
    }

    @Test func limits() {
        var request = Self.valid
        request.customer.id = String(repeating: "c", count: 128)
        request.items = Array(repeating: OrderLine(sku: String(repeating: "s", count: 64), quantity: 1000, unitPriceCents: 1), count: 100)
        #expect(fields(request).isEmpty)
        request.customer.id += "c"
        request.items.append(request.items[0])
        #expect(fields(request) == ["customer.id", "items"])
        request = Self.valid
        request.items = []
        #expect(fields(request) == ["items"])
    }

    @Test func theTotalIsCapped() {
        var request = Self.valid
        request.items = [OrderLine(sku: "A", quantity: 100, unitPriceCents: 10_000_000)]
        #expect(fields(request).isEmpty)  // Exactly 1_000_000_000.
        request.items.append(OrderLine(sku: "B", quantity: 1, unitPriceCents: 1))
        let violations = OrderValidation.validate(request)
        #expect(violations.map(\.field) == ["items"])
        #expect(violations.first?.message.contains("1000000001") == true)
    }

    @Test func aFreeOrderIsRefusedButAFreeLineIsNot() {
        var request = Self.valid
        request.items = [OrderLine(sku: "A", quantity: 3, unitPriceCents: 0)]
        let violations = OrderValidation.validate(request)
        #expect(violations.map(\.field) == ["items"])
        #expect(violations.first?.message.contains("free orders are not taken") == true)
        request.items.append(OrderLine(sku: "B", quantity: 1, unitPriceCents: 1))
        #expect(fields(request).isEmpty)
    }

    @Test(arguments: ["ada@example.com", "a.b+c@mail.example.org"])
    func plausibleEmails(email: String) {
        var request = Self.valid
        request.customer.email = email
        #expect(fields(request).isEmpty)
    }

    @Test(arguments: ["", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "ada @example.com", "ada@example."])
    func implausibleEmails(email: String) {
        var request = Self.valid
        request.customer.email = email
        #expect(fields(request) == ["customer.email"])
    }

    @Test(arguments: ["EU", "EURO", "eur", "E1R", "ÉUR"])
    func currencyCodes(currency: String) {
        var request = Self.valid
        request.currency = currency
        #expect(fields(request) == ["currency"])
    }

    @Test func idempotencyKeys() {
        #expect(OrderValidation.isValidIdempotencyKey("a"))
        #expect(OrderValidation.isValidIdempotencyKey(String(repeating: "k", count: 255)))
        #expect(OrderValidation.isValidIdempotencyKey("order 42/retry-1"))
        #expect(!OrderValidation.isValidIdempotencyKey(""))
        #expect(!OrderValidation.isValidIdempotencyKey(String(repeating: "k", count: 256)))
        #expect(!OrderValidation.isValidIdempotencyKey("clé"))
        #expect(!OrderValidation.isValidIdempotencyKey("tab\there"))
    }
}

@Suite("Order request parsing", .timeLimit(.minutes(1)))
struct OrderRequestParserTests {
    func parse(_ json: String) -> Result<OrderRequest, OrderRequestError> {
        Result { () throws(OrderRequestError) in try OrderRequestParser.parse(Data(json.utf8)) }
    }

    func violations(_ json: String) -> [FieldViolation] {
        guard case .failure(.invalid(let violations)) = parse(json) else { return [] }
        return violations
    }

    @Test func theContractExampleParses() throws {
        let json = """
            { "customer": { "id": "c-42", "email": "ada@example.com" },
              "currency": "EUR",
              "items": [ { "sku": "SKU-001", "quantity": 2, "unit_price_cents": 1250 } ],
              "payment": { "token": "tok_ok" } }
            """
        #expect(try parse(json).get() == OrderValidationTests.valid)
    }

    @Test(arguments: ["", "{", "not json", "{\"customer\": }"])
    func malformedJSON(json: String) {
        #expect(parse(json) == .failure(.malformed("the body is not valid JSON")))
    }

    @Test(arguments: ["[]", "42", "\"order\"", "null"])
    func notAnObject(json: String) {
        #expect(parse(json) == .failure(.malformed("the body must be a JSON object")))
    }

    @Test func missingAndMistypedFieldsAreNamedTogetherWithRuleViolations() {
        let found = violations(
            """
            { "customer": { "email": 7 }, "currency": "eur",
              "items": [ { "sku": "A", "quantity": "2", "unit_price_cents": 1.5 }, 3 ] }
            """
        )
        #expect(
            found == [
                FieldViolation(field: "customer.id", message: "is required"),
                FieldViolation(field: "customer.email", message: "must be a string"),
                FieldViolation(field: "items[0].quantity", message: "must be a whole number"),
                FieldViolation(field: "items[0].unit_price_cents", message: "must be a whole number"),
                FieldViolation(field: "items[1]", message: "must be an object"),
                FieldViolation(field: "payment", message: "is required"),
                FieldViolation(field: "currency", message: "must be an ISO 4217 code of 3 uppercase letters, like EUR"),
            ]
        )
    }

    @Test func anEmptyObjectNamesEveryTopLevelField() {
        #expect(Set(violations("{}").map(\.field)) == ["customer", "currency", "items", "payment"])
    }

    @Test func aHugeNumberIsNotAWholeNumberThatFits() {
        let found = violations(
            """
            { "customer": { "id": "c", "email": "a@b.co" }, "currency": "EUR", "payment": { "token": "t" },
              "items": [ { "sku": "A", "quantity": 1e30, "unit_price_cents": 99999999999999999999999 } ] }
            """
        )
        #expect(found.map(\.field) == ["items[0].quantity", "items[0].unit_price_cents"])
    }
}

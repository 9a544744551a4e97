import Contracts
import Order
import Testing

@Suite("Order list query", .timeLimit(.minutes(1)))
struct OrderListQueryTests {
    @Test func aListQueryWithAControlCharacterInItsCustomerIsRefused() {
        #expect(throws: OrderRequestError.self) { try OrderListQuery.parse(customerID: "c\u{0}", status: nil, limit: nil) }
        #expect((try? OrderListQuery.parse(customerID: "c-é", status: nil, limit: nil))?.customerID == "c-é")
    }

    @Test func defaultsAndFilters() throws {
        #expect(try OrderListQuery.parse(customerID: nil, status: nil, limit: nil) == OrderListQuery())
        #expect(try OrderListQuery.parse(customerID: "", status: "", limit: "") == OrderListQuery())
        #expect(
            try OrderListQuery.parse(customerID: "c-1", status: "completed", limit: "200")
                == OrderListQuery(customerID: "c-1", status: .completed, limit: 200)
        )
    }

    @Test func badValuesAreNamed() {
        do {
            _ = try OrderListQuery.parse(customerID: nil, status: "SHIPPED", limit: "201")
            Issue.record("accepted a bad query")
        } catch {
            guard case .invalid(let violations) = error else {
                Issue.record("not a field error: \(error)")
                return
            }
            #expect(violations.map(\.field) == ["status", "limit"])
        }
        #expect(throws: OrderRequestError.self) { try OrderListQuery.parse(customerID: nil, status: nil, limit: "0") }
        #expect(throws: OrderRequestError.self) { try OrderListQuery.parse(customerID: nil, status: nil, limit: "ten") }
    }
}

import Contracts
import MessagingConventions
import Testing

@Suite struct EventConstantsTests {
    /// Every constant, with its name and payload as the compiler sees them.
    static let constants: [(type: String, payload: Any.Type)] = [
        (Event.orderRequested.type, Event.orderRequested.payloadType), (Event.orderPlaced.type, Event.orderPlaced.payloadType),
        (Event.orderCompleted.type, Event.orderCompleted.payloadType), (Event.orderFailed.type, Event.orderFailed.payloadType),
        (Event.orderCancelled.type, Event.orderCancelled.payloadType), (Event.paymentSucceeded.type, Event.paymentSucceeded.payloadType),
        (Event.paymentFailed.type, Event.paymentFailed.payloadType), (Event.paymentRefunded.type, Event.paymentRefunded.payloadType),
        (Event.stockReserved.type, Event.stockReserved.payloadType),
        (Event.stockReservationFailed.type, Event.stockReservationFailed.payloadType),
        (Event.paymentRefundRequested.type, Event.paymentRefundRequested.payloadType),
        (Event.notificationSent.type, Event.notificationSent.payloadType), (Event.notificationFailed.type, Event.notificationFailed.payloadType),
        (Event.stockAdjusted.type, Event.stockAdjusted.payloadType),
    ]

    @Test func everyEventTypeHasOneConstant() {
        #expect(Self.constants.map(\.type).sorted() == EventType.allCases.map(\.rawValue).sorted())
    }

    @Test func eachTypeCarriesThePayloadOfItsConstant() throws {
        for constant in Self.constants {
            let type = try #require(EventType(rawValue: constant.type))
            #expect(ObjectIdentifier(type.payloadType) == ObjectIdentifier(constant.payload), "\(constant.type)")
        }
    }
}

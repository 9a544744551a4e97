/// An event type together with the Swift type of its data: one constant per type, used both to
/// handle and to emit, so that a handler or an emit with another payload type does not compile.
///
/// ```swift
/// extension Event where Payload == PaymentSucceeded {
///     static var paymentSucceeded: Self { Event("payment.succeeded") }
/// }
///
/// handlers.on(.paymentSucceeded) { context in … context.payload.paymentID … }
/// try context.emit(.paymentSucceeded, subject: orderID, payload: PaymentSucceeded(…))
/// ```
public struct Event<Payload: Sendable>: Sendable, Hashable {
    /// The type's name, which is also its routing key (`payment.succeeded`).
    public let type: String

    public init(_ type: String) { self.type = type }

    /// The Swift type of the event's data.
    public var payloadType: Payload.Type { Payload.self }
}

import Contracts
import Messaging

extension EventHandlers {
    /// Handles events of a contract type one after another, with the payload type the contract pairs with it.
    ///
    /// The pairing is checked when the handler is registered, at start: a handler that expects another
    /// payload than ``EventType/payloadType`` is a programming error.
    public mutating func on<Payload: Decodable & Sendable>(
        _ type: EventType, each handle: @escaping @Sendable (EventContext<Payload>) async throws -> Void
    ) {
        precondition(type.payloadType == Payload.self, "\(type.rawValue) carries \(type.payloadType), not \(Payload.self)")
        on(type.rawValue, as: Payload.self, each: handle)
    }

    /// Handles every event of a contract type in a batch at once, with the payload type the contract pairs with it.
    public mutating func on<Payload: Decodable & Sendable>(
        _ type: EventType, batch handle: @escaping @Sendable ([EventContext<Payload>]) async throws -> Void
    ) {
        precondition(type.payloadType == Payload.self, "\(type.rawValue) carries \(type.payloadType), not \(Payload.self)")
        on(type.rawValue, as: Payload.self, batch: handle)
    }
}

extension EventContext {
    /// Emits an event of a contract type about `subject` on the service's exchange, carrying this event's trace context.
    public func emit(_ type: EventType, subject: String, payload: some Encodable) throws {
        try emit(type.rawValue, subject: subject, payload: payload)
    }
}

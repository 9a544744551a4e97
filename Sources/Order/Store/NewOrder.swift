import Contracts
import Foundation
import Telemetry

/// An order about to be stored: a valid request and where it came from.
public struct NewOrder: Sendable, Hashable {
    /// Where an order came from, which is also what makes its creation idempotent.
    public enum Origin: Sendable, Hashable {
        /// `POST /v1/orders`, with its `Idempotency-Key` if it had one.
        case http(idempotencyKey: String?)
        /// `order.requested` on the ingress exchange, by its event id.
        case ingress(eventID: String)
    }

    public var id: UUID
    public var request: OrderRequest
    public var origin: Origin
    public var traceparent: TraceParent
    /// How long the saga may take before the order is cancelled.
    public var sagaDeadline: Duration

    public init(id: UUID = UUID(), request: OrderRequest, origin: Origin, traceparent: TraceParent, sagaDeadline: Duration) {
        self.id = id
        self.request = request
        self.origin = origin
        self.traceparent = traceparent
        self.sagaDeadline = sagaDeadline
    }

    /// The request in one canonical JSON form (sorted keys), so that equal requests compare equal
    /// whatever their key order or whitespace.
    public var canonicalRequest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return String(decoding: (try? encoder.encode(request)) ?? Data(), as: UTF8.self)
    }
}

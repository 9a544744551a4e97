import Contracts
import Foundation
import Telemetry

/// An order about to be stored: a valid request and where it came from.
package struct NewOrder: Sendable, Hashable {
    /// Where an order came from, which is also what makes its creation idempotent.
    package enum Origin: Sendable, Hashable {
        /// `POST /v1/orders`, with its `Idempotency-Key` if it had one.
        case http(idempotencyKey: String?)
        /// `order.requested` on the ingress exchange, by its event id.
        case ingress(eventID: String)
    }

    /// Who emitted the event an order was made from (`order.requested`), and when: its first entry in the timeline.
    package struct SourceEvent: Sendable, Hashable {
        /// The event's CloudEvents `source`.
        package var source: String
        package var time: Date

        package init(source: String, time: Date) {
            self.source = source
            self.time = time
        }
    }

    package var id: OrderID
    package var request: OrderRequest
    package var origin: Origin
    package var traceparent: TraceParent
    /// How long the saga may take before the order is cancelled.
    package var sagaDeadline: Duration
    /// The event it came from, for an order from the ingress exchange.
    package var sourceEvent: SourceEvent?

    package init(
        id: OrderID = OrderID(), request: OrderRequest, origin: Origin, traceparent: TraceParent, sagaDeadline: Duration,
        sourceEvent: SourceEvent? = nil
    ) {
        self.id = id
        self.request = request
        self.origin = origin
        self.traceparent = traceparent
        self.sagaDeadline = sagaDeadline
        self.sourceEvent = sourceEvent
    }

    /// The request in one canonical JSON form (sorted keys), so that equal requests compare equal
    /// whatever their key order or whitespace.
    package var canonicalRequest: String {
        // Encoding plain strings and integers cannot fail.
        String(decoding: (try? JSONEncoder.orderly.encode(request)) ?? Data(), as: UTF8.self)
    }
}

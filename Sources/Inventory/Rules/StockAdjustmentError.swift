import Messaging
import MessagingConventions

/// A stock adjustment that would make the available stock of a SKU negative.
///
/// Permanent: the same adjustment fails the same way every time, so the message is parked with
/// this description as its reason rather than retried.
package struct StockAdjustmentError: ClassifiedError, Sendable, Hashable, CustomStringConvertible {
    package var sku: String
    package var delta: Int
    package var available: Int
    package var reserved: Int

    package var failureKind: FailureKind { .permanent }

    package var description: String {
        let (result, overflow) = available.addingReportingOverflow(delta)
        let outcome = overflow ? "overflow the available stock" : "leave \(result) available"
        return "adjusting \(sku) by \(delta) would \(outcome) (available \(available), reserved \(reserved)); stock is never negative"
    }
}

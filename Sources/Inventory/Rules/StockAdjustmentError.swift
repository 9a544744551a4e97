import Messaging
import MessagingConventions

/// A stock adjustment that would make the available stock of a SKU negative.
///
/// Permanent: the same adjustment fails the same way every time, so the message is parked with
/// this description as its reason rather than retried.
public struct StockAdjustmentError: ClassifiedError, Sendable, Hashable, CustomStringConvertible {
    public var sku: String
    public var delta: Int
    public var available: Int
    public var reserved: Int

    public var failureKind: FailureKind { .permanent }

    public var description: String {
        let (result, overflow) = available.addingReportingOverflow(delta)
        let outcome = overflow ? "overflow the available stock" : "leave \(result) available"
        return "adjusting \(sku) by \(delta) would \(outcome) (available \(available), reserved \(reserved)); stock is never negative"
    }
}

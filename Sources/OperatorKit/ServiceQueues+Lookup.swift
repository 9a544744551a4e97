import Contracts
import Messaging
import MessagingConventions

extension Subscriptions {
    /// The queues of the service called `name`, by its queue name (`payment`) or process name (`payment-service`).
    ///
    /// - Throws: ``UnknownService`` naming the services there are.
    public static func queues(ofService name: String) throws(UnknownService) -> ServiceQueues {
        if let queues = all.first(where: { $0.service == name }) ?? SystemCatalog.service(named: name)?.queues { return queues }
        throw UnknownService(name: name)
    }
}

/// A service name that is not one of the catalog's consuming services.
public struct UnknownService: Error, CustomStringConvertible {
    public var name: String
    public var description: String {
        "unknown service '\(name)': expected one of \(Subscriptions.all.map(\.service).joined(separator: ", "))"
    }
}

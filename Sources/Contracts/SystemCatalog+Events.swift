extension ServiceDescriptor {
    /// The CloudEvents `source` of the events it emits: `/orderly/payment-service`.
    package var eventSource: String { "/orderly/\(name)" }
}

extension SystemCatalog {
    /// The process that emits events of `type`: the one that writes the exchange the type is published on.
    /// `nil` for what other systems publish on `orderly.ingress`, and for a type the saga does not know.
    package static func emitter(of type: String) -> ServiceDescriptor? {
        guard let exchange = EventType(rawValue: type)?.exchange else { return nil }
        return all.first { $0.exchange == exchange }
    }

    /// The process whose events carry `source`, if it is one of the catalog's.
    package static func service(emitting source: String) -> ServiceDescriptor? {
        all.first { $0.eventSource == source }
    }

    /// The processes whose work queues are bound to events of `type`, in the catalog's order.
    package static func consumers(of type: String) -> [ServiceDescriptor] {
        all.filter { service in service.queues?.subscriptions.contains { $0.routingKeys.contains(type) } == true }
    }
}

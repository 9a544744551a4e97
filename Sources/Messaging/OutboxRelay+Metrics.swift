import AMQP
import Metrics

extension OutboxRelay {
    /// Counts what the broker confirmed by event type: one increment per type and round, not per event.
    func countPublished(_ publications: [AMQPConnection.Publication], _ results: [Result<Void, AMQPError>]) {
        var counts: [String: Int] = [:]
        for (publication, result) in zip(publications, results) {
            if case .success = result { counts[publication.message.properties.type ?? "unknown", default: 0] += 1 }
        }
        for (type, count) in counts { publishedByType(type).increment(by: count) }
    }
}

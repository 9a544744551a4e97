import AMQP
import Metrics

extension OutboxRelay {
    /// Counts what the broker took by event type, whether a queue was bound for it or not (those are also
    /// `orderly_outbox_unroutable_total`): the events that left the outbox. One increment per type and round.
    func countPublished(_ publications: [AMQPConnection.Publication], _ results: [Result<Void, AMQPError>]) {
        var counts: [String: Int] = [:]
        for (publication, result) in zip(publications, results) {
            switch result {
            case .success: break
            case .failure(let error) where error.code == .unroutable: break
            case .failure: continue
            }
            counts[publication.message.properties.type ?? "unknown", default: 0] += 1
        }
        for (type, count) in counts { publishedByType(type).increment(by: count) }
    }
}

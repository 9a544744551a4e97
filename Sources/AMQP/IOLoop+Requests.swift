import CAMQPShim
import CRabbitMQ

// MARK: Requests

extension IOLoop {
    func serveRequests() {
        while connection != nil, !requests.isEmpty {
            let request = requests.removeFirst()
            let outcome = serve(request.method)
            if case .failure(let error) = outcome, error.code == .connectionLost {
                requests.insert(request, at: 0)  // Failed with the rest on the way out.
                connectionLost(error)
                return
            }
            request.reply(outcome)
        }
    }

    private func serve(_ method: PendingRequest.Method) -> Result<PendingRequest.Outcome, AMQPError> {
        defer { arena.reset() }
        if case .failure(let error) = ensureOpen(Self.requestChannel) { return .failure(error) }
        let channel = Self.requestChannel
        switch method {
        case .declare(let declared):
            return declare(declared).map {
                topology = topology.merging(declared)
                return .done
            }
        case .declareOnce(let declared):
            return declare(declared).map { .done }
        case .exchangeExists(let exchange):
            amqp_exchange_declare(connection, channel, arena.bytes(exchange), arena.bytes(""), 1, 0, 0, 0, amqp_empty_table)
            return check("exchange.declare \(exchange)", channel: channel).map { .done }
        case .queueStatus(let queue):
            let ok = amqp_queue_declare(connection, channel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
            return check("queue.declare", channel: channel).map {
                .status(AMQPQueueStatus(messageCount: ok!.pointee.message_count, consumerCount: ok!.pointee.consumer_count))
            }
        case .purgeQueue(let queue):
            let ok = amqp_queue_purge(connection, channel, arena.bytes(queue))
            return check("queue.purge", channel: channel).map { .count(ok!.pointee.message_count) }
        case .deleteQueue(let queue):
            amqp_queue_delete(connection, channel, arena.bytes(queue), 0, 0)
            topology.queues.removeAll { $0.name == queue }
            topology.bindings.removeAll { $0.queue == queue }
            return check("queue.delete", channel: channel).map { .done }
        case .deleteExchange(let exchange):
            amqp_exchange_delete(connection, channel, arena.bytes(exchange), 0)
            topology.exchanges.removeAll { $0.name == exchange }
            topology.bindings.removeAll { $0.exchange == exchange }
            return check("exchange.delete", channel: channel).map { .done }
        }
    }

    func declare(_ topology: AMQPTopology) -> Result<Void, AMQPError> {
        let channel = Self.requestChannel
        defer { arena.reset() }
        for exchange in topology.exchanges {
            amqp_exchange_declare(
                connection, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0, exchange.durable ? 1 : 0, 0, 0,
                arena.table(exchange.arguments)
            )
            if case .failure(let error) = check("exchange.declare \(exchange.name)", channel: channel) { return .failure(error) }
        }
        for queue in topology.queues {
            amqp_queue_declare(
                connection, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0, queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0,
                arena.table(queue.arguments)
            )
            if case .failure(let error) = check("queue.declare \(queue.name)", channel: channel) { return .failure(error) }
        }
        for binding in topology.bindings {
            amqp_queue_bind(
                connection, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange), arena.bytes(binding.routingKey),
                arena.table(binding.arguments)
            )
            if case .failure(let error) = check("queue.bind \(binding.queue)", channel: channel) { return .failure(error) }
        }
        return .success(())
    }
}

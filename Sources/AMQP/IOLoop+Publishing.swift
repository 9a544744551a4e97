import CAMQPShim
import CRabbitMQ

// MARK: Publishing

extension IOLoop {
    func flushPublishes() {
        guard let connection, link.canPublish, openChannels.contains(Self.publishChannel) else { return }
        while let publish = tracker.next() {
            var properties = arena.properties(publish.message.properties)
            let status = publish.message.body.withUnsafeBytes { body in
                amqp_basic_publish(
                    connection, Self.publishChannel, arena.bytes(publish.exchange), arena.bytes(publish.routingKey),
                    publish.mandatory ? 1 : 0, 0, &properties,
                    amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                )
            }
            arena.reset()
            if status != AMQP_STATUS_OK.rawValue {
                connectionLost(libraryError(status, "publishing"))
                return
            }
        }
    }

    func expire() {
        let now = ContinuousClock.now
        let blocked = link.blockedReason
        for settlement in tracker.expire(
            now: now,
            error: { _ in
                if let blocked { return AMQPError(.blocked, "the broker blocked publishing for longer than the publish timeout: \(blocked)") }
                return AMQPError(.timeout, "no confirm from the broker within \(self.configuration.publishTimeout)")
            })
        {
            settlement()
        }
        requests.removeAll { request in
            guard request.deadline <= now else { return false }
            request.reply(.failure(AMQPError(.timeout, "no connection to the broker within \(configuration.requestTimeout)")))
            return true
        }
    }

    func returned(_ returned: amqp_basic_return_t, channel: amqp_channel_t) {
        let exchange = String(amqp: returned.exchange)
        let routingKey = String(amqp: returned.routing_key)
        let replyText = String(amqp: returned.reply_text)
        guard let message = readMessage(channel: channel) else { return }
        tracker.markReturned(
            exchange: exchange, routingKey: routingKey, messageID: message.properties.messageID,
            error: AMQPError(.unroutable, replyCode: returned.reply_code, "\(replyText): no queue for '\(routingKey)' on '\(exchange)'")
        )
    }

    /// The broker closed the publishing channel: fails what caused it, and opens the channel again.
    func publishChannelClosed(_ error: AMQPError) {
        // A publish to a missing exchange, or one the user may not write to, closes the channel.
        // Fail the messages it names (the broker calls the default exchange 'amq.default'); the
        // others were unlucky bystanders and go out again on a new channel.
        for settlement in tracker.channelLost(failing: { publish in
            error.message.contains("'\(publish.exchange.isEmpty ? "amq.default" : publish.exchange)'") ? error : nil
        }) { settlement() }
        do {
            try openChannel(Self.publishChannel)
            amqp_confirm_select(connection, Self.publishChannel)
            try check("confirm.select", channel: Self.publishChannel).get()
        } catch {
            connectionLost(error)
        }
    }
}

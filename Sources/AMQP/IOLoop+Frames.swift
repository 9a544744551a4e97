import CAMQPShim
import CRabbitMQ
import Glibc

// MARK: Incoming frames

extension IOLoop {
    func pumpFrames() {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        for _ in 0..<4096 {
            guard let connection else { return }
            let status = amqp_simple_wait_frame_noblock(connection, &frame, &immediately)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(libraryError(status, "waiting for frames"))
                return
            }
            if frame.frame_type == AMQP_FRAME_METHOD { handleMethod(frame.payload.method, channel: frame.channel) }
        }
        if let connection { amqp_maybe_release_buffers(connection) }
    }

    private func handleMethod(_ method: amqp_method_t, channel: amqp_channel_t) {
        switch method.id {
        case orderly_method_basic_ack:
            let ack = method.decoded.load(as: amqp_basic_ack_t.self)
            for settlement in tracker.settle(tag: ack.delivery_tag, multiple: ack.multiple != 0) { settlement() }
        case orderly_method_basic_nack:
            let nack = method.decoded.load(as: amqp_basic_nack_t.self)
            let error = AMQPError(.nacked, "the broker refused the message")
            for settlement in tracker.settle(tag: nack.delivery_tag, multiple: nack.multiple != 0, error: error) { settlement() }
        case orderly_method_basic_deliver:
            deliver(method.decoded.load(as: amqp_basic_deliver_t.self), channel: channel)
        case orderly_method_basic_return:
            returned(method.decoded.load(as: amqp_basic_return_t.self), channel: channel)
        case orderly_method_basic_cancel:
            let tag = String(amqp: method.decoded.load(as: amqp_basic_cancel_t.self).consumer_tag)
            consumerEvent(tag) { $0.cancelledByBroker(at: .now) }
        case orderly_method_channel_close:
            let close = method.decoded.load(as: amqp_channel_close_t.self)
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(connection, channel, orderly_method_channel_close_ok, &ok)
            channelClosed(channel, AMQPError(.channelClosed, replyCode: close.reply_code, String(amqp: close.reply_text)))
        case orderly_method_connection_close:
            let close = method.decoded.load(as: amqp_connection_close_t.self)
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(connection, 0, orderly_method_connection_close_ok, &ok)
            connectionLost(AMQPError(.connectionLost, replyCode: close.reply_code, String(amqp: close.reply_text)))
        case orderly_method_connection_blocked:
            let reason = String(amqp: method.decoded.load(as: amqp_connection_blocked_t.self).reason)
            link.blocked(reason)
            logger.warning("the broker blocked publishing", metadata: ["reason": "\(reason)"])
        case orderly_method_connection_unblocked:
            link.unblocked()
            logger.info("the broker unblocked publishing")
        default:
            logger.debug("ignored an AMQP method", metadata: ["amqp.method": "\(method.id)", "amqp.channel": "\(channel)"])
        }
    }

    /// Reads the header and body frames that follow a `basic.deliver` or `basic.return`.
    func readMessage(channel: amqp_channel_t) -> (body: [UInt8], properties: AMQPProperties)? {
        var message = amqp_message_t()
        let reply = amqp_read_message(connection, channel, &message, 0)
        defer { amqp_destroy_message(&message) }
        if case .failure(let error) = self.reply(reply, "reading a message", channel: channel) {
            connectionLost(error)
            return nil
        }
        return ([UInt8](amqp: message.body), AMQPProperties(amqp: message.properties))
    }

    private func channelClosed(_ channel: amqp_channel_t, _ error: AMQPError) {
        openChannels.remove(channel)
        logger.warning("the broker closed a channel", metadata: ["amqp.channel": "\(channel)", "error": "\(error)"])
        if channel == Self.publishChannel {
            publishChannelClosed(error)
        } else if let tag = consumers.first(where: { $0.value.channel == channel })?.key {
            consumerEvent(tag) { $0.channelClosed(at: .now) }
        }
    }

    // MARK: Errors

    /// The outcome of the last synchronous method on `channel`.
    func check(_ what: String, channel: amqp_channel_t) -> Result<Void, AMQPError> {
        reply(amqp_get_rpc_reply(connection), what, channel: channel)
    }

    /// Turns a librabbitmq reply into a result, answering the broker's close so the channel or
    /// connection can be used (or replaced) afterwards.
    func reply(_ reply: amqp_rpc_reply_t, _ what: String, channel: amqp_channel_t) -> Result<Void, AMQPError> {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return .success(())
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == orderly_method_channel_close:
            let close = reply.reply.decoded.load(as: amqp_channel_close_t.self)
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(connection, channel, orderly_method_channel_close_ok, &ok)
            openChannels.remove(channel)
            return .failure(AMQPError(.channelClosed, replyCode: close.reply_code, "\(what): \(String(amqp: close.reply_text))"))
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == orderly_method_connection_close:
            let close = reply.reply.decoded.load(as: amqp_connection_close_t.self)
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(connection, 0, orderly_method_connection_close_ok, &ok)
            return .failure(AMQPError(.connectionLost, replyCode: close.reply_code, "\(what): \(String(amqp: close.reply_text))"))
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return .failure(libraryError(-reply.library_error, what))
        default:
            return .failure(AMQPError(.connectionLost, "\(what): unexpected reply from the broker"))
        }
    }

    func libraryError(_ status: Int32, _ what: String) -> AMQPError {
        AMQPError(.connectionLost, "\(what): \(errorText(status))")
    }

    func errorText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}

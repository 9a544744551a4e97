import AMQP
import Contracts
import Messaging
import MessagingConventions

extension Subscriptions {
    /// The whole contract's topology: every exchange (ingress included), queue, tier and binding.
    package static var topology: AMQPTopology { ServiceQueues.topology(of: all, exchanges: Exchange.all) }
}

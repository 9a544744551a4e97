#ifndef ORDERLY_AMQP_SHIM_H
#define ORDERLY_AMQP_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

/// Method ids that librabbitmq defines as cast macros, which Swift cannot import.
static const amqp_method_number_t orderly_method_connection_close = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t orderly_method_connection_close_ok = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t orderly_method_connection_blocked = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t orderly_method_connection_unblocked = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t orderly_method_channel_close = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t orderly_method_channel_close_ok = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t orderly_method_basic_deliver = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t orderly_method_basic_return = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t orderly_method_basic_ack = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t orderly_method_basic_nack = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t orderly_method_basic_cancel = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t orderly_method_basic_cancel_ok = AMQP_BASIC_CANCEL_OK_METHOD;

/// `amqp_login_with_properties` with PLAIN authentication, without the variadic tail.
amqp_rpc_reply_t orderly_amqp_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                          int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                          const char *user, const char *password);

/// A non-blocking eventfd, to wake a connection's thread from `poll` (not importable from Glibc).
int orderly_wake_descriptor(void);

#endif

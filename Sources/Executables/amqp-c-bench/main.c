// The baseline for `orderly bench publish`: librabbitmq driven from a plain C loop, with
// persistent messages, publisher confirms and a window of unconfirmed messages, the same
// workload the Swift client is measured on.
//
//   amqp-c-bench [host] [port] [messages] [size] [window]

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_reply(amqp_rpc_reply_t reply, const char *what) {
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "amqp-c-bench: %s failed (reply type %d, library error %s)\n", what, reply.reply_type,
                amqp_error_string2(reply.library_error));
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 5672;
    long total = argc > 3 ? atol(argv[3]) : 50000;
    size_t size = argc > 4 ? (size_t)atol(argv[4]) : 1024;
    long window = argc > 5 ? atol(argv[5]) : 512;
    const char *queue = "orderly.bench.c";

    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(conn);
    if (!socket || amqp_socket_open(socket, host, port) != AMQP_STATUS_OK) {
        fprintf(stderr, "amqp-c-bench: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    check_reply(amqp_login(conn, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(conn, 1);
    check_reply(amqp_get_rpc_reply(conn), "channel.open");
    amqp_confirm_select(conn, 1);
    check_reply(amqp_get_rpc_reply(conn), "confirm.select");
    amqp_queue_delete(conn, 1, amqp_cstring_bytes(queue), 0, 0);
    check_reply(amqp_get_rpc_reply(conn), "queue.delete");
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
    check_reply(amqp_get_rpc_reply(conn), "queue.declare");

    char *body = malloc(size);
    memset(body, 'x', size);
    amqp_bytes_t payload = {.len = size, .bytes = body};
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG,
                                     .delivery_mode = 2,
                                     .content_type = amqp_cstring_bytes("application/octet-stream")};

    long sent = 0, confirmed = 0;
    double start = now_seconds();
    while (confirmed < total) {
        while (sent < total && sent - confirmed < window) {
            if (amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0, &props, payload) != 0) {
                fprintf(stderr, "amqp-c-bench: publish failed\n");
                return 1;
            }
            sent++;
        }
        amqp_frame_t frame;
        if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) {
            fprintf(stderr, "amqp-c-bench: connection lost\n");
            return 1;
        }
        if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            confirmed = ack->multiple ? (long)ack->delivery_tag : confirmed + 1;
        } else if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "amqp-c-bench: broker refused a message\n");
            return 1;
        }
        amqp_maybe_release_buffers(conn);
    }
    double elapsed = now_seconds() - start;
    printf("librabbitmq C loop: %ld persistent %zu-byte messages confirmed in %.2f s: %.0f msg/s (window %ld)\n", total, size,
           elapsed, total / elapsed, window);

    amqp_queue_delete(conn, 1, amqp_cstring_bytes(queue), 0, 0);
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(body);
    return 0;
}

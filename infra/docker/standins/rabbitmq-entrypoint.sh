#!/usr/bin/env bash
# The rabbitmq stand-in's entry point (a test fixture): the data folder belongs to the rabbitmq user,
# who then runs the command; the node is rabbit@HOSTNAME, as in the official image. rabbitmq-server
# is the server's own script, in place of Debian's wrapper (which writes its output to a file and
# does not pass SIGTERM on), so the node logs to the console and stops when the container does.
set -euo pipefail
if [[ "$(id -u)" == 0 ]]; then
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq "$0" "$@"
fi
[[ "${1:-}" == rabbitmq-server ]] && set -- /usr/lib/rabbitmq/bin/rabbitmq-server "${@:2}"
exec "$@"

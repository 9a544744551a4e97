#!/usr/bin/env bash
# The RabbitMQ container's entry point (compose.yaml): makes the definitions the node loads at boot
# (rabbitmq.conf: load_definitions) from the committed template infra/rabbitmq/definitions.json,
# then hands over to the image's own entry point.
#
# The template holds, in place of each user's password hash, the name of the variable that holds
# the password ("$ORDERLY_AMQP_PASSWORD_ORDER_SERVICE"). Here each is replaced by RabbitMQ's
# salted SHA-256 hash of that variable's value (rabbit_password_hashing_sha256: base64 of a random
# 4-byte salt and SHA-256(salt ‖ password)), so no password is ever written down in clear. A
# variable that is not set stops the container with a line saying which.
set -euo pipefail

template=/etc/rabbitmq/orderly/definitions.json
target=/etc/rabbitmq/orderly-definitions.json

hash_password() {
    local salt digest
    salt="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    # shellcheck disable=SC2059 # the format is the bytes, as \xHH escapes
    digest="$({ printf "$(sed 's/../\\x&/g' <<<"$salt")"; printf '%s' "$1"; } | sha256sum | cut -d' ' -f1)"
    # shellcheck disable=SC2059
    printf "$(sed 's/../\\x&/g' <<<"$salt$digest")" | base64 -w0
}

definitions="$(cat "$template")"
for variable in $(grep -o '"\$ORDERLY_AMQP_PASSWORD_[A-Z0-9_]*"' "$template" | tr -d '"$' | sort -u); do
    password="${!variable:-}"
    if [[ -z "$password" ]]; then
        echo "orderly-rabbitmq: $variable is not set; set it in .env (see .env.example)" >&2
        exit 78
    fi
    definitions="${definitions//\"\$$variable\"/\"$(hash_password "$password")\"}"
done
(umask 077 && printf '%s\n' "$definitions" >"$target")
chown rabbitmq:rabbitmq "$target" 2>/dev/null || true

exec docker-entrypoint.sh "$@"

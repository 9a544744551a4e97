# shellcheck shell=bash
# Sourced by infra/dev: the local installation's secrets and who logs in with them.
#
# Every secret is a file of its own under $DATA/secrets (mode 0600, the folder 0700), made once
# and read ever after; none is ever written to the repository. The operator's two passwords and
# the HTTP keys are made here; the services' passwords by 'orderly system provision', which reads
# the same folder. Which users and roles exist, and what each may do, is the system catalog's
# (Sources/Contracts/SystemCatalog+Access.swift): 'orderly system show' prints it.

# The operator: an administrator of the broker and the owner of the database.
OPERATOR_USER=orderly

# secret NAME: the secret called NAME, made first if it does not exist.
secret() {
    local file="$SECRETS_DIR/$1"
    if [[ ! -s "$file" ]]; then
        (
            umask 077
            mkdir -p "$SECRETS_DIR"
            chmod 700 "$SECRETS_DIR"
            local value
            value="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
            # noclobber: of two racing makers, the second keeps the first one's secret.
            set -C
            printf '%s\n' "$value" >"$file"
        ) 2>/dev/null || true
    fi
    [[ -s "$file" ]] || die "cannot make the secret $file"
    tr -d '\n' <"$file"
}

# existing_secret NAME: the secret called NAME, or an error saying how to make it.
existing_secret() {
    [[ -s "$SECRETS_DIR/$1" ]] || die "no secret $SECRETS_DIR/$1 yet: ./infra/dev up provisions them"
    tr -d '\n' <"$SECRETS_DIR/$1"
}

# On a cluster the URLs name every node (the client's ?failover= list; see rabbitmq.sh).
operator_amqp_url() { amqp_url_for "$OPERATOR_USER:$(secret "amqp-$OPERATOR_USER")"; }
operator_database_url() { echo "postgresql://$OPERATOR_USER:$(secret "postgres-$OPERATOR_USER")@127.0.0.1:$PG_PORT/orderly"; }

# Creates or updates every broker user, permission and the topology, every database role and
# schema, from the catalog (orderly system provision, with the orderly executable in BIN).
provision() {
    local bin="$1" out
    [[ -x "$bin/orderly" ]] || die "the build has no $bin/orderly to provision with"
    info "provisioning users, permissions, topology, roles and schemas (orderly system provision)"
    if ! out="$(cd "$ROOT" && timeout "$READY_TIMEOUT" "$bin/orderly" system provision --secrets "$SECRETS_DIR" \
        --database-url "$(operator_database_url)" --rabbitmqctl "$DEV_SCRIPT rabbitmqctl" 2>&1 9>&-)"; then
        printf '%s\n' "$out" >&2
        die "orderly system provision failed (output above)"
    fi
    printf '%s\n' "$out" | sed 's/^/    /'
    write_operator_env "$bin"
}

# What the operator's CLI reads when its variables are not set (see README): the operator's URLs,
# each service's URL (as the services have them, from orderly in BIN) and the two HTTP keys. Mode
# 0600, like every secret.
write_operator_env() {
    local file="$SECRETS_DIR/operator.env" tmp urls
    urls="$("$1/orderly" system env order-service --secrets "$SECRETS_DIR" --http-port-base "$HTTP_PORT_BASE" 9>&-)" ||
        die "orderly system env failed (output above)"
    tmp="$(umask 077 && mktemp "$file.XXXXXX")"
    {
        echo "# Written by infra/dev up: the operator's logins to this checkout's brokers, and the HTTP keys."
        echo "ORDERLY_AMQP_URL=$(operator_amqp_url)"
        echo "ORDERLY_DATABASE_URL=$(operator_database_url)"
        grep -E '^ORDERLY_[A-Z]+_URL=http' <<<"$urls"
        echo "ORDERLY_API_KEY=$(secret api-key)"
        echo "ORDERLY_ADMIN_KEY=$(secret admin-key)"
    } >"$tmp"
    if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv "$tmp" "$file"; fi
}

# shellcheck shell=bash
# Sourced by infra/dev: provisioning, and the operator's file.
#
# Every secret is a file of its own under $DATA/secrets (mode 0600, the folder 0700), made once by
# orderly system and read ever after; none is ever written to the repository. Which users and roles
# exist, and what each may do, is the system catalog's (Sources/Contracts/SystemCatalog+Access.swift):
# 'orderly system show' prints it.

# operator_value NAME: a variable of operator.env (write_operator_env), empty before the first provisioning.
operator_value() { sed -n "s/^$1=//p" "$SECRETS_DIR/operator.env" 2>/dev/null; }

# Creates or updates every broker user, permission and the topology, every database role and
# schema, from the catalog (orderly system provision, with the orderly executable in BIN).
provision() {
    local bin="$1" out
    write_operator_env "$bin"
    info "provisioning users, permissions, topology, roles and schemas (orderly system provision)"
    # ORDERLY_SYSTEM_BIN: the infra/dev rabbitmqctl it calls runs this build's orderly, without looking for one.
    if ! out="$(cd "$ROOT" && ORDERLY_SYSTEM_BIN="$bin" timeout "${ORDERLY_READY_TIMEOUT:-120}" "$bin/orderly" system provision --secrets "$SECRETS_DIR" \
        --database-url "$(operator_value ORDERLY_DATABASE_URL)" --rabbitmqctl "$DEV_SCRIPT rabbitmqctl" 2>&1 9>&-)"; then
        printf '%s\n' "$out" >&2
        die "orderly system provision failed (output above)"
    fi
    printf '%s\n' "$out" | sed 's/^/    /'
}

# What the operator's CLI reads when its variables are not set (see README): the operator's URLs (every
# node of a cluster), each service's URL and the two HTTP keys, from orderly in BIN. Mode 0600, like
# every secret.
write_operator_env() {
    local file="$SECRETS_DIR/operator.env" tmp
    mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
    tmp="$(umask 077 && mktemp "$file.XXXXXX")"
    ORDERLY_SYSTEM_BIN="$1" orderly_system operator-env >"$tmp" || die "orderly system operator-env failed (output above)"
    if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv "$tmp" "$file"; fi
}

# shellcheck shell=bash
# Sourced by infra/dev: the local installation's secrets and who logs in with them.
#
# Every secret is a file of its own under $DATA/secrets (mode 0600, the folder 0700), made once
# and read ever after; none is ever written to the repository. The database operator's password is
# made here, for the role PostgreSQL starts with; every other one by 'orderly system operator-env'
# and 'orderly system provision', which read the same folder. Which users and roles exist, and what each may do, is the system catalog's
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

# operator_value NAME: a variable of operator.env (write_operator_env), empty before the first provisioning.
operator_value() { sed -n "s/^$1=//p" "$SECRETS_DIR/operator.env" 2>/dev/null; }

# Creates or updates every broker user, permission and the topology, every database role and
# schema, from the catalog (orderly system provision, with the orderly executable in BIN).
provision() {
    local bin="$1" out
    [[ -x "$bin/orderly" ]] || die "the build has no $bin/orderly to provision with"
    write_operator_env "$bin"
    info "provisioning users, permissions, topology, roles and schemas (orderly system provision)"
    if ! out="$(cd "$ROOT" && timeout "$READY_TIMEOUT" "$bin/orderly" system provision --secrets "$SECRETS_DIR" \
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
    tmp="$(umask 077 && mktemp "$file.XXXXXX")"
    ORDERLY_SYSTEM_BIN="$1" orderly_system operator-env >"$tmp" || die "orderly system operator-env failed (output above)"
    if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv "$tmp" "$file"; fi
}

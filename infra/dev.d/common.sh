# shellcheck shell=bash
# Sourced by infra/dev: settings, helpers and the data folder, which every other part uses.

# ---------------------------------------------------------------------------
# Settings

READY_TIMEOUT="${ORDERLY_READY_TIMEOUT:-120}"

# set_ports AMQP_PORT PG_PORT: everything that follows from the two ports.
set_ports() {
    AMQP_PORT="$1"
    PG_PORT="$2"
    # Erlang distribution port, fixed so it can be bound to loopback and checked like any other port.
    RABBIT_DIST_PORT="${ORDERLY_RABBITMQ_DIST_PORT:-$((AMQP_PORT + 20000))}"
    # A second checkout on other ports must not collide with ours in epmd.
    if [[ "$AMQP_PORT" == 5672 ]]; then RABBIT_NODE="orderly@localhost"; else RABBIT_NODE="orderly-${AMQP_PORT}@localhost"; fi
}
set_ports "${ORDERLY_AMQP_PORT:-5672}" "${ORDERLY_PG_PORT:-5432}"

# Resolved by init_paths once the data folder exists.
DATA="" RMQ_DIR="" PG_DIR="" SVC_DIR="" SECRETS_DIR=""
# RabbitMQ nodes (resolve_rabbit_nodes) and instances per service (orderly system start), from the
# command line (RABBIT_NODES_ASKED, REPLICAS_ASKED), the environment or the data folder.
RABBIT_NODES=1 RABBIT_NODES_ASKED="" REPLICAS_ASKED=""

# ---------------------------------------------------------------------------
# Helpers

if [[ -t 1 ]]; then BOLD=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' DIM=$'\e[2m' RESET=$'\e[0m'; else BOLD="" RED="" GREEN="" DIM="" RESET=""; fi

info() { printf '%s==>%s %s\n' "$BOLD" "$RESET" "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf '%swarning:%s %s\n' "$RED" "$RESET" "$*" >&2; }
die() {
    printf '%serror:%s %s\n' "$RED" "$RESET" "$*" >&2
    exit 1
}

is_root() { [[ "$EUID" -eq 0 ]]; }

# Brokers run as their package users when we are root; a non-root developer runs them as themselves.
as_user() {
    local user="$1"
    shift
    if is_root; then runuser -u "$user" -- "$@"; else "$@"; fi
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Reads the kernel's socket tables rather than connecting: a probe connection would
# show up as a failed AMQP handshake in RabbitMQ's log, and ss may not be installed.
port_listening() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Who holds a port, for error messages; best effort.
port_owner() {
    command -v ss >/dev/null || return 0
    local pid
    pid="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)"
    [[ -n "$pid" ]] || return 0
    printf 'pid %s: %s' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-160)"
}

require_port_free() {
    local port="$1" what="$2"
    if port_listening "$port"; then
        local owner
        owner="$(port_owner "$port")"
        die "port $port (needed for $what) is taken by something that is not ours.
       ${owner:-(owner unknown)}
       Stop it (a system service? systemctl stop rabbitmq-server / postgresql), or pick other ports
       with ORDERLY_AMQP_PORT, ORDERLY_PG_PORT or ORDERLY_HTTP_PORT_BASE."
    fi
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
    local timeout="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# A zombie counts as gone: an init that reaps slowly must not make 'stop' wait for nothing.
pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
    local state
    state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)"
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
pid_gone() { ! pid_alive "$1"; }
port_closed() { ! port_listening "$1"; }

read_pid() { if [[ -s "$1" ]]; then tr -dc '0-9' <"$1"; fi; }

show_log_tail() {
    local file
    for file in "$@"; do
        [[ -s "$file" ]] || continue
        printf '%s--- last lines of %s ---%s\n' "$DIM" "$file" "$RESET" >&2
        tail -n 30 "$file" >&2
    done
}

# Writes stdin to FILE only when it differs, so a second 'up' leaves files untouched.
write_if_changed() {
    local file="$1" tmp
    tmp="$(mktemp "$file.XXXXXX")"
    cat >"$tmp"
    if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
    else
        chmod 644 "$tmp"
        mv "$tmp" "$file"
    fi
}

# Foundation's Process on Linux (what the fault tests use to call this script) gives
# its child one end of a socket and reports the child's exit only once that socket
# is closed: a broker started from here must not inherit it, or the caller hangs
# for as long as the broker lives. So nothing inherited beyond stdio is kept.
close_inherited_fds() {
    local fd
    for fd in "/proc/$$/fd"/*; do
        fd="${fd##*/}"
        case "$fd" in 0 | 1 | 2 | 255) continue ;; esac # 255: bash reading this script
        eval "exec $fd>&-" 2>/dev/null || true
    done
}

# A daemon started from a test inherits the test thread's signal mask and ignored
# signals (Foundation's Process resets neither): a RabbitMQ node with SIGTERM blocked
# never stops, and a service would never drain. Daemons are started through this
# prefix, which hands them a clean slate; perl-base is essential on Debian.
# shellcheck disable=SC2016 # perl code, not shell
CLEAN_SIGNALS=(perl -MPOSIX -e '
    sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!\n";
    $SIG{$_} = "DEFAULT" for qw(HUP INT QUIT PIPE ALRM TERM CHLD USR1 USR2);
    exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";
' --)

# The process group of PID (field 5 of /proc/PID/stat; ps may not be installed).
pgid_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f3; }

# ---------------------------------------------------------------------------
# Data folder

init_paths() {
    DATA="${ORDERLY_DATA_DIR:-$ROOT/.data}"
    mkdir -p "$DATA"
    DATA="$(cd "$DATA" && pwd -P)"
    RMQ_DIR="$DATA/rabbitmq"
    PG_DIR="$DATA/postgres"
    SVC_DIR="$DATA/services"
    SECRETS_DIR="$DATA/secrets"
}

# Unless a port is given explicitly, a broker this checkout already runs keeps the
# port it was started on (say by 'test', which moves off ports other checkouts hold).
adopt_running_ports() {
    local amqp="$AMQP_PORT" pg="$PG_PORT" port
    if [[ -z "${ORDERLY_AMQP_PORT:-}" ]] && rabbitmq_running; then
        port="$(rabbitmq_config_port)"
        amqp="${port:-$amqp}"
    fi
    if [[ -z "${ORDERLY_PG_PORT:-}" ]] && pg_running; then
        port="$(pg_postmaster_port)"
        pg="${port:-$pg}"
    fi
    set_ports "$amqp" "$pg"
}

# The broker users must reach their folders through every parent (RabbitMQ refuses to
# boot from a folder it cannot write, initdb from one it cannot enter).
ensure_traversable() {
    is_root || return 0
    local dir="$1"
    while [[ "$dir" != / ]]; do
        if ! ((8#$(stat -c %a "$dir") & 1)); then
            note "making $dir traversable for the broker users (chmod o+x)"
            chmod o+x "$dir"
        fi
        dir="$(dirname "$dir")"
    done
}

# own_dir DIR USER [MODE]: creates DIR owned by USER.
own_dir() {
    local dir="$1" user="$2" mode="${3:-750}"
    mkdir -p "$dir"
    if is_root && [[ "$(stat -c %U "$dir")" != "$user" ]]; then chown -R "$user:" "$dir"; fi
    chmod "$mode" "$dir"
}

# Serialises commands that start or stop things: fault tests and a developer may race.
with_lock() {
    (
        flock -w 600 9 || die "another infra/dev holds $DATA/.lock"
        "$@"
    ) 9>>"$DATA/.lock"
}

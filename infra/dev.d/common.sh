# shellcheck shell=bash
# Sourced by infra/dev: printing, the data folder, the lock, and what a process started from a test inherits.

if [[ -t 1 ]]; then BOLD=$'\e[1m' RED=$'\e[31m' RESET=$'\e[0m'; else BOLD="" RED="" RESET=""; fi

info() { printf '%s==>%s %s\n' "$BOLD" "$RESET" "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
    printf '%serror:%s %s\n' "$RED" "$RESET" "$*" >&2
    exit 1
}

is_root() { [[ "$EUID" -eq 0 ]]; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# The data folder and what is kept there; RabbitMQ nodes and instances per service as the command line
# asked for them (orderly system resolves them, with the environment and the data folder).
DATA="" SECRETS_DIR="" RABBIT_NODES_ASKED="" REPLICAS_ASKED=""

init_paths() {
    DATA="${ORDERLY_DATA_DIR:-$ROOT/.data}"
    mkdir -p "$DATA"
    DATA="$(cd "$DATA" && pwd -P)"
    SECRETS_DIR="$DATA/secrets"
}

# Serialises commands that start or stop things: fault tests and a developer may race.
with_lock() {
    (
        flock -w 600 9 || die "another infra/dev holds $DATA/.lock"
        "$@"
    ) 9>>"$DATA/.lock"
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

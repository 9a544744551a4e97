# shellcheck shell=bash
# Sourced by infra/dev: RabbitMQ under the data folder, one node or a cluster of several.
#
# Node 1 is the node a single-node installation runs (its folder $DATA/rabbitmq, its name, its
# ports), so that 'up --rabbit-nodes 3' turns a running installation into a cluster: node K (from 2)
# lives in $DATA/rabbitmq-K, is called <node 1's name>-K, and listens on AMQP_PORT+K-1 and on the
# distribution port RABBIT_DIST_PORT+K-1. Every node shares node 1's Erlang cookie; nodes 2 and
# up join node 1's cluster once, when they first boot, and find it by themselves afterwards.

rabbit_bin() {
    local dir=/usr/lib/rabbitmq/bin # the /usr/sbin wrappers su to rabbitmq and drop our environment
    if [[ -x "$dir/$1" ]]; then echo "$dir/$1"; else command -v "$1" || die "$1 not found; is rabbitmq-server installed?"; fi
}

# ---------------------------------------------------------------------------
# The nodes

# How many nodes this checkout runs: --rabbit-nodes or ORDERLY_RABBIT_NODES, else what the data
# folder holds (recorded by the start that made the cluster), else 1. A cluster does not shrink.
resolve_rabbit_nodes() {
    local recorded asked="${RABBIT_NODES_ASKED:-${ORDERLY_RABBIT_NODES:-}}"
    recorded="$(read_pid "$RMQ_DIR/cluster-size")"
    recorded="${recorded:-1}"
    if [[ -z "$asked" ]]; then
        RABBIT_NODES="$recorded"
        return 0
    fi
    [[ "$asked" =~ ^[1-9]$ ]] || die "--rabbit-nodes (ORDERLY_RABBIT_NODES) must be a number from 1 to 9, not '$asked'"
    ((asked >= recorded)) ||
        die "$DATA holds a RabbitMQ cluster of $recorded nodes, not $asked: './infra/dev down', then remove $DATA/rabbitmq* to start afresh with fewer"
    RABBIT_NODES="$asked"
}

# node_name K: the Erlang node name of node K.
node_name() { if (($1 == 1)); then echo "$RABBIT_NODE"; else echo "${RABBIT_NODE%@*}-$1@${RABBIT_NODE#*@}"; fi; }
node_dir() { if (($1 == 1)); then echo "$RMQ_DIR"; else echo "$RMQ_DIR-$1"; fi; }
node_amqp_port() { echo $((AMQP_PORT + $1 - 1)); }
node_dist_port() { echo $((RABBIT_DIST_PORT + $1 - 1)); }
# How status and errors call node K: 'rabbitmq' alone, 'rabbitmq-K' in a cluster.
node_label() { if ((RABBIT_NODES == 1 && $1 == 1)); then echo rabbitmq; else echo "rabbitmq-$1"; fi; }

# node_index NAME: K for 'rabbitmq-K' or node K's Erlang name; nothing for anything else.
node_index() {
    local k
    for ((k = 1; k <= RABBIT_NODES; k++)); do
        if [[ "$1" == "rabbitmq-$k" || "$1" == "$(node_name "$k")" ]]; then
            echo "$k"
            return 0
        fi
    done
    return 0
}

# The environment both the server and the CLI need to find node K and its cookie.
rabbit_env() {
    local k="$1" dir
    dir="$(node_dir "$k")"
    RABBIT_ENV=(
        "HOME=$dir/home"
        "LANG=C.UTF-8" "LC_ALL=C.UTF-8"
        "RABBITMQ_NODENAME=$(node_name "$k")"
        "RABBITMQ_USE_LONGNAME=false"
        "RABBITMQ_MNESIA_BASE=$dir/mnesia"
        "RABBITMQ_LOG_BASE=$dir/log"
        "RABBITMQ_CONFIG_FILE=$dir/etc/rabbitmq.conf"
        "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/etc/advanced.config"
        "RABBITMQ_CONF_ENV_FILE=$dir/etc/rabbitmq-env.conf"
        "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/etc/enabled_plugins"
        "RABBITMQ_PID_FILE=$dir/rabbitmq.pid"
        "RABBITMQ_DIST_PORT=$(node_dist_port "$k")"
        # epmd is started by the first node; keep it and the CLI's own node on loopback.
        "ERL_EPMD_ADDRESS=127.0.0.1"
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    )
}

# rabbit_cli TOOL K ARGS...: rabbitmqctl, rabbitmq-queues... against node K.
rabbit_cli() {
    local tool="$1" k="$2"
    shift 2
    rabbit_env "$k"
    (cd "$(node_dir "$k")" && as_user rabbitmq env "${RABBIT_ENV[@]}" "$(rabbit_bin "$tool")" -n "$(node_name "$k")" "$@") 9>&-
}

# The first node that runs, or 1: users, permissions and definitions are the cluster's, so any
# running node can take them, and an installation is still provisioned while node 1 is away.
running_node() {
    local k
    for ((k = 1; k <= RABBIT_NODES; k++)); do
        if [[ -n "$(node_pid "$k")" ]]; then
            echo "$k"
            return 0
        fi
    done
    echo 1
}

rabbitmqctl_() { rabbit_cli rabbitmqctl "$(running_node)" "$@"; }

node_pid() {
    local pid
    pid="$(read_pid "$(node_dir "$1")/rabbitmq.pid")"
    # A pid file can outlive the node (kill -9, reboot); only a live beam counts.
    if pid_alive "$pid" && grep -qa beam "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
}

# Whether any node of this checkout runs.
rabbitmq_running() { [[ -n "$(node_pid "$(running_node)")" ]]; }

# The AMQP port of the config node 1 was started with.
rabbitmq_config_port() { sed -n 's/^listeners\.tcp\.default = .*:\([0-9]*\)$/\1/p' "$RMQ_DIR/etc/rabbitmq.conf" 2>/dev/null || true; }

# ---------------------------------------------------------------------------
# Starting

prepare_node() {
    local k="$1" dir
    dir="$(node_dir "$k")"
    ensure_traversable "$DATA"
    own_dir "$dir" rabbitmq
    local sub
    for sub in home mnesia log etc; do own_dir "$dir/$sub" rabbitmq; done
    # Only the node's user may read the cookie; the CLI runs as that user too.
    chmod 700 "$dir/home"

    write_if_changed "$dir/etc/rabbitmq.conf" <<EOF
# Written by infra/dev: edit the script, not this file.
listeners.tcp.default = 127.0.0.1:$(node_amqp_port "$k")
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $(node_dist_port "$k")
distribution.listener.port_range.max = $(node_dist_port "$k")
# 'orderly system provision' deletes guest; until it has run, guest may log in only over loopback.
loopback_users.guest = true
# Dead peers must be noticed quickly: fault tests kill processes.
heartbeat = 10
# Block publishers well before the disk is full, but do not trip on a small dev disk.
disk_free_limit.absolute = 256MB
log.file.level = info
log.console = false
EOF
    write_if_changed "$dir/etc/enabled_plugins" <<<'[].'
    # Present and empty, so a machine-wide /etc/rabbitmq/rabbitmq-env.conf is not read.
    write_if_changed "$dir/etc/rabbitmq-env.conf" </dev/null
}

# Every node of a cluster must hold the same Erlang cookie before it boots: node 1's, made here
# when node 1 has never booted (a single node makes its own on first boot).
share_cookie() {
    ((RABBIT_NODES > 1)) || return 0
    local cookie="$RMQ_DIR/home/.erlang.cookie" k target
    if [[ ! -s "$cookie" ]]; then
        local letters
        letters="$(head -c 256 /dev/urandom | base64 -w0 | tr -dc '[:upper:]')"
        (umask 077 && printf '%s' "${letters:0:20}" >"$cookie")
    fi
    for ((k = 1; k <= RABBIT_NODES; k++)); do
        target="$(node_dir "$k")/home/.erlang.cookie"
        if ((k > 1)) && ! cmp -s "$cookie" "$target"; then
            # A node that booted with a cookie of its own cannot talk to the others; it must start afresh.
            if [[ -s "$target" ]]; then rm -f "$target"; fi
            cp "$cookie" "$target"
        fi
        chmod 400 "$target"
        if is_root; then chown rabbitmq: "$target"; fi
    done
}

# launch_node K: starts node K in the background; its launcher's pid in LAUNCHER.
launch_node() {
    local k="$1" dir
    dir="$(node_dir "$k")"
    require_port_free "$(node_amqp_port "$k")" "RabbitMQ AMQP of $(node_label "$k")"
    require_port_free "$(node_dist_port "$k")" "RabbitMQ distribution of $(node_label "$k")"
    rm -f "$dir/rabbitmq.pid"
    info "starting $(node_label "$k") ($(node_name "$k") on 127.0.0.1:$(node_amqp_port "$k"))"
    local out="$dir/log/stdout.log" server run_as=()
    rabbit_env "$k"
    # setsid: the node must outlive this script and the terminal or test process that ran it.
    # 9>&-: it must not inherit the lock.
    server="$(rabbit_bin rabbitmq-server)"
    is_root && run_as=(runuser -u rabbitmq --)
    printf '\n=== infra/dev start %s ===\n' "$(date -Is)" >>"$out"
    # Each client connection is a file descriptor: the soft limit (runuser leaves it at 1024) is raised
    # to the hard one, or a test pass with many systems side by side runs the node out of them.
    (cd "$dir" && exec setsid "${CLEAN_SIGNALS[@]}" "${run_as[@]}" env "${RABBIT_ENV[@]}" \
        sh -c 'ulimit -n "$(ulimit -Hn)"; exec "$0"' "$server") >>"$out" 2>&1 </dev/null 9>&- &
    LAUNCHER=$!
    disown "$LAUNCHER" # its fate is ours to report, not bash's
}

# await_node K LAUNCHER: waits until node K has booted; a node that fails is stopped, with its log shown.
await_node() {
    local k="$1" launcher="$2" dir port
    dir="$(node_dir "$k")"
    port="$(node_amqp_port "$k")"
    local log out="$dir/log/stdout.log"
    log="$dir/log/$(node_name "$k").log"
    # The listener opens late in the boot (a cluster node first waits for its peers); the pid file early.
    # Bail out as soon as the launcher dies.
    local deadline=$((SECONDS + READY_TIMEOUT))
    until port_listening "$port" && [[ -n "$(node_pid "$k")" ]]; do
        if ! pid_alive "$launcher"; then
            show_log_tail "$out" "$log"
            die "$(node_label "$k") exited during boot (logs above, full logs in $dir/log)"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$out" "$log"
            abandon_node "$k" "$launcher"
            die "$(node_label "$k") did not open port $port within ${READY_TIMEOUT}s (logs in $dir/log)"
        fi
        sleep 0.2
    done
    # The port opens before the last boot steps finish; wait for the node itself.
    if ! rabbit_cli rabbitmqctl "$k" -q await_startup --timeout "$READY_TIMEOUT" >/dev/null; then
        show_log_tail "$out" "$log"
        abandon_node "$k" "$launcher"
        die "$(node_label "$k") did not finish booting"
    fi
}

# A node that failed to come up in time is stopped, so the next 'start' begins afresh
# instead of finding a half-booted node and calling it running.
# The launcher leads its own process group (setsid), which holds the node until it
# has written its pid file: killing the group gets a node that is still booting.
abandon_node() {
    local k="$1" launcher="$2"
    kill -KILL -- "-$launcher" 2>/dev/null || true
    wait_for 10 "rabbitmq to die" pid_gone "$launcher" || true
    rm -f "$(node_dir "$k")/rabbitmq.pid"
}

# Whether node K belongs to node 1's cluster (as node K sees it).
node_joined() {
    ((${1} == 1)) && return 0
    rabbit_cli rabbitmqctl "$1" -q cluster_status --formatter json 2>/dev/null | grep -qF "\"$(node_name 1)\""
}

# Node K, booted on its own, leaves its own empty cluster and joins node 1's: once, on its first boot.
join_node() {
    local k="$1" started
    node_joined "$k" && return 0
    [[ -n "$(node_pid 1)" ]] || die "$(node_label "$k") has not joined the cluster yet, and node 1 ($(node_name 1)) does not run: start rabbitmq"
    started="$(now)"
    info "joining $(node_label "$k") to $(node_name 1)"
    rabbit_cli rabbitmqctl "$k" -q stop_app >/dev/null
    rabbit_cli rabbitmqctl "$k" -q reset >/dev/null
    rabbit_cli rabbitmqctl "$k" -q join_cluster "$(node_name 1)" >/dev/null || die "$(node_label "$k") could not join $(node_name 1)"
    rabbit_cli rabbitmqctl "$k" -q start_app >/dev/null
    rabbit_cli rabbitmqctl "$k" -q await_startup --timeout "$READY_TIMEOUT" >/dev/null || die "$(node_label "$k") did not start after joining"
    # Quorum queues that exist already (an installation that was one node) get a replica on it.
    rabbit_cli rabbitmq-queues "$k" -q grow "$(node_name "$k")" all >/dev/null ||
        warn "could not add replicas of the existing quorum queues on $(node_name "$k")"
    note "$(node_label "$k") joined in $(elapsed "$started")"
}

# start_nodes K...: starts the nodes that do not run, all at once (a cluster node that was not the
# last to stop waits for its peers at boot), waits for them, and joins new ones to the cluster.
start_nodes() {
    local k port started launched=() launchers=()
    started="$(now)"
    # Every node's folder, so that they all get the cookie, whichever start first.
    for ((k = 1; k <= RABBIT_NODES; k++)); do
        if [[ -z "$(node_pid "$k")" ]]; then prepare_node "$k"; fi
    done
    share_cookie
    for k in "$@"; do
        if [[ -n "$(node_pid "$k")" ]]; then
            port="$(sed -n 's/^listeners\.tcp\.default = .*:\([0-9]*\)$/\1/p' "$(node_dir "$k")/etc/rabbitmq.conf" 2>/dev/null || true)"
            [[ -z "$port" || "$port" == "$(node_amqp_port "$k")" ]] ||
                die "this checkout's $(node_label "$k") already runs on port $port, not $(node_amqp_port "$k"); stop it first"
            note "$(node_label "$k") is already running (pid $(node_pid "$k"))"
            continue
        fi
        launch_node "$k"
        launched+=("$k")
        launchers+=("$LAUNCHER")
    done
    ((${#launched[@]})) || return 0
    local i
    for i in "${!launched[@]}"; do await_node "${launched[i]}" "${launchers[i]}"; done
    for k in "${launched[@]}"; do join_node "$k"; done
    # Quorum queues with at-least-once dead-lettering need every feature flag; a node whose data
    # predates a package upgrade has some disabled. The flags are the cluster's.
    rabbitmqctl_ -q enable_feature_flag all >/dev/null
    if ((RABBIT_NODES > 1)); then echo "$RABBIT_NODES" >"$RMQ_DIR/cluster-size"; fi
    for k in "${launched[@]}"; do note "$(node_label "$k") ready (pid $(node_pid "$k"))"; done
    note "rabbitmq ready in $(elapsed "$started")"
}

all_nodes() { seq 1 "$RABBIT_NODES"; }

start_rabbitmq() {
    local nodes
    mapfile -t nodes < <(all_nodes)
    start_nodes "${nodes[@]}"
}

start_node() { start_nodes "$1"; }

# ---------------------------------------------------------------------------
# Stopping

stop_node() {
    local k="$1" pid port
    pid="$(node_pid "$k")"
    port="$(node_amqp_port "$k")"
    if [[ -z "$pid" ]]; then
        note "$(node_label "$k") is not running"
        return 0
    fi
    info "stopping $(node_label "$k") (pid $pid)"
    local started
    started="$(now)"
    # SIGTERM is a clean shutdown (init:stop) without booting an Erlang CLI node. A node that
    # has it blocked (started without CLEAN_SIGNALS) is asked over distribution instead.
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 10 "rabbitmq to exit" pid_gone "$pid"; then
        note "$(node_label "$k") ignores SIGTERM; asking it with rabbitmqctl shutdown"
        # Bounded: a wedged node can keep the CLI waiting for ever, and then it is killed below.
        rabbit_cli rabbitmqctl "$k" -q --timeout 30 shutdown >/dev/null 2>&1 &
        local asking=$!
        wait_for 35 "rabbitmqctl shutdown" pid_gone "$asking" || kill -KILL "$asking" 2>/dev/null || true
    fi
    if ! wait_for 50 "rabbitmq to exit" pid_gone "$pid"; then
        warn "$(node_label "$k") did not stop within 60s; killing it"
        local group
        group="$(pgid_of "$pid")"
        if [[ -n "$group" && "$group" != "$(pgid_of $$)" ]]; then kill -KILL -- "-$group" 2>/dev/null || true; fi
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 10 "rabbitmq to die" pid_gone "$pid" || die "cannot kill $(node_label "$k") (pid $pid)"
    fi
    wait_for 10 "port $port to close" port_closed "$port" ||
        die "$(node_label "$k") exited but port $port is still open"
    rm -f "$(node_dir "$k")/rabbitmq.pid"
    note "$(node_label "$k") stopped in $(elapsed "$started")"
}

# Node 1 last: the last node of a cluster to stop can boot first without waiting for its peers.
stop_rabbitmq() {
    local k
    for ((k = RABBIT_NODES; k >= 1; k--)); do stop_node "$k"; done
}

# shellcheck shell=bash
# Sourced by infra/dev: RabbitMQ, one node of its own under the data folder.

rabbit_bin() {
    local dir=/usr/lib/rabbitmq/bin # the /usr/sbin wrappers su to rabbitmq and drop our environment
    if [[ -x "$dir/$1" ]]; then echo "$dir/$1"; else command -v "$1" || die "$1 not found; is rabbitmq-server installed?"; fi
}

# The environment both the server and the CLI need to find the same node and cookie.
rabbit_env() {
    RABBIT_ENV=(
        "HOME=$RMQ_DIR/home"
        "LANG=C.UTF-8" "LC_ALL=C.UTF-8"
        "RABBITMQ_NODENAME=$RABBIT_NODE"
        "RABBITMQ_USE_LONGNAME=false"
        "RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia"
        "RABBITMQ_LOG_BASE=$RMQ_DIR/log"
        "RABBITMQ_CONFIG_FILE=$RMQ_DIR/etc/rabbitmq.conf"
        "RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_DIR/etc/advanced.config"
        "RABBITMQ_CONF_ENV_FILE=$RMQ_DIR/etc/rabbitmq-env.conf"
        "RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/etc/enabled_plugins"
        "RABBITMQ_PID_FILE=$RMQ_DIR/rabbitmq.pid"
        "RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT"
        # epmd is started by the first node; keep it and the CLI's own node on loopback.
        "ERL_EPMD_ADDRESS=127.0.0.1"
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    )
}

rabbitmqctl_() {
    rabbit_env
    (cd "$RMQ_DIR" && as_user rabbitmq env "${RABBIT_ENV[@]}" "$(rabbit_bin rabbitmqctl)" -n "$RABBIT_NODE" "$@") 9>&-
}

rabbitmq_pid() {
    local pid
    pid="$(read_pid "$RMQ_DIR/rabbitmq.pid")"
    # A pid file can outlive the node (kill -9, reboot); only a live beam counts.
    if pid_alive "$pid" && grep -qa beam "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
}

rabbitmq_running() { [[ -n "$(rabbitmq_pid)" ]]; }

# The AMQP port of the config the node was started with.
rabbitmq_config_port() { sed -n 's/^listeners\.tcp\.default = .*:\([0-9]*\)$/\1/p' "$RMQ_DIR/etc/rabbitmq.conf" 2>/dev/null || true; }

prepare_rabbitmq() {
    ensure_traversable "$DATA"
    own_dir "$RMQ_DIR" rabbitmq
    local sub
    for sub in home mnesia log etc; do own_dir "$RMQ_DIR/$sub" rabbitmq; done
    # Only the node's user may read the cookie; the CLI runs as that user too.
    chmod 700 "$RMQ_DIR/home"

    write_if_changed "$RMQ_DIR/etc/rabbitmq.conf" <<EOF
# Written by infra/dev: edit the script, not this file.
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $RABBIT_DIST_PORT
distribution.listener.port_range.max = $RABBIT_DIST_PORT
# 'orderly system provision' deletes guest; until it has run, guest may log in only over loopback.
loopback_users.guest = true
# Dead peers must be noticed quickly: fault tests kill processes.
heartbeat = 10
# Block publishers well before the disk is full, but do not trip on a small dev disk.
disk_free_limit.absolute = 256MB
log.file.level = info
log.console = false
EOF
    write_if_changed "$RMQ_DIR/etc/enabled_plugins" <<<'[].'
    # Present and empty, so a machine-wide /etc/rabbitmq/rabbitmq-env.conf is not read.
    write_if_changed "$RMQ_DIR/etc/rabbitmq-env.conf" </dev/null
}

start_rabbitmq() {
    if rabbitmq_running; then
        local port
        port="$(rabbitmq_config_port)"
        [[ -z "$port" || "$port" == "$AMQP_PORT" ]] ||
            die "this checkout's rabbitmq already runs on port $port, not $AMQP_PORT; stop it first"
        note "rabbitmq is already running (pid $(rabbitmq_pid))"
        return 0
    fi
    require_port_free "$AMQP_PORT" "RabbitMQ AMQP"
    require_port_free "$RABBIT_DIST_PORT" "RabbitMQ distribution"
    prepare_rabbitmq
    rm -f "$RMQ_DIR/rabbitmq.pid"

    info "starting rabbitmq ($RABBIT_NODE on 127.0.0.1:$AMQP_PORT)"
    local started log="$RMQ_DIR/log/$RABBIT_NODE.log" out="$RMQ_DIR/log/stdout.log"
    started="$(now)"
    rabbit_env
    # setsid: the node must outlive this script and the terminal or test process that ran it.
    # 9>&-: it must not inherit the lock.
    local server run_as=()
    server="$(rabbit_bin rabbitmq-server)"
    is_root && run_as=(runuser -u rabbitmq --)
    printf '\n=== infra/dev start %s ===\n' "$(date -Is)" >>"$out"
    (cd "$RMQ_DIR" && exec setsid "${CLEAN_SIGNALS[@]}" "${run_as[@]}" env "${RABBIT_ENV[@]}" "$server") >>"$out" 2>&1 </dev/null 9>&- &
    local launcher=$!
    disown "$launcher" # its fate is ours to report, not bash's

    # The listener opens late in the boot; the pid file early. Bail out as soon as the launcher dies.
    local deadline=$((SECONDS + READY_TIMEOUT))
    until port_listening "$AMQP_PORT" && rabbitmq_running; do
        if ! pid_alive "$launcher"; then
            show_log_tail "$out" "$log"
            die "rabbitmq exited during boot (logs above, full logs in $RMQ_DIR/log)"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$out" "$log"
            abandon_rabbitmq "$launcher"
            die "rabbitmq did not open port $AMQP_PORT within ${READY_TIMEOUT}s (logs in $RMQ_DIR/log)"
        fi
        sleep 0.2
    done
    # The port opens before the last boot steps finish; wait for the node itself.
    if ! rabbitmqctl_ -q await_startup --timeout "$READY_TIMEOUT" >/dev/null; then
        show_log_tail "$out" "$log"
        abandon_rabbitmq "$launcher"
        die "rabbitmq did not finish booting"
    fi
    # Quorum queues with at-least-once dead-lettering need every feature flag; a node
    # whose data predates a package upgrade has some disabled.
    rabbitmqctl_ -q enable_feature_flag all >/dev/null
    note "rabbitmq ready in $(elapsed "$started") (pid $(rabbitmq_pid))"
}

# A node that failed to come up in time is stopped, so the next 'start' begins afresh
# instead of finding a half-booted node and calling it running.
# The launcher leads its own process group (setsid), which holds the node until it
# has written its pid file: killing the group gets a node that is still booting.
abandon_rabbitmq() {
    local launcher="$1"
    kill -KILL -- "-$launcher" 2>/dev/null || true
    wait_for 10 "rabbitmq to die" pid_gone "$launcher" || true
    rm -f "$RMQ_DIR/rabbitmq.pid"
}

stop_rabbitmq() {
    local pid
    pid="$(rabbitmq_pid)"
    if [[ -z "$pid" ]]; then
        note "rabbitmq is not running"
        return 0
    fi
    info "stopping rabbitmq (pid $pid)"
    local started
    started="$(now)"
    # SIGTERM is a clean shutdown (init:stop) without booting an Erlang CLI node. A node
    # that has it blocked (started without CLEAN_SIGNALS) is asked over distribution instead.
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 10 "rabbitmq to exit" pid_gone "$pid"; then
        note "rabbitmq ignores SIGTERM; asking it with rabbitmqctl shutdown"
        # Bounded: a wedged node can keep the CLI waiting for ever, and then it is killed below.
        rabbitmqctl_ -q --timeout 30 shutdown >/dev/null 2>&1 &
        local asking=$!
        wait_for 35 "rabbitmqctl shutdown" pid_gone "$asking" || kill -KILL "$asking" 2>/dev/null || true
    fi
    if ! wait_for 50 "rabbitmq to exit" pid_gone "$pid"; then
        warn "rabbitmq did not stop within 60s; killing it"
        local group
        group="$(pgid_of "$pid")"
        if [[ -n "$group" && "$group" != "$(pgid_of $$)" ]]; then kill -KILL -- "-$group" 2>/dev/null || true; fi
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 10 "rabbitmq to die" pid_gone "$pid" || die "cannot kill rabbitmq (pid $pid)"
    fi
    wait_for 10 "port $AMQP_PORT to close" port_closed "$AMQP_PORT" ||
        die "rabbitmq exited but port $AMQP_PORT is still open"
    rm -f "$RMQ_DIR/rabbitmq.pid"
    note "rabbitmq stopped in $(elapsed "$started")"
}

# shellcheck shell=bash
# Sourced by infra/dev: the service processes.
#
# Each service executable found in the release build runs under a supervisor of its
# own (infra/dev.d/supervise), which starts it again when it exits unasked, as
# compose's 'restart: unless-stopped' does, and gives up on one that keeps crashing.
# Executables not written yet are skipped, so this part grows with the project
# without edits.
#
# With --replicas N every service that consumes runs as N instances competing for its queue (the
# gateway simulator, whose ledger is the ground truth, runs once). Instance 1 is called by the
# service's name, instance K (from 2) NAME#K; instance K listens on its service's port plus
# INSTANCE_PORT_STEP*(K-1) (order-service#2 on 8100). What each instance leaves under $DATA/services:
#   INSTANCE.log             its output, with the supervisor's lines among it
#   INSTANCE.pid             its process, rewritten at each restart (what kill -9 aims at)
#   INSTANCE.supervisor.pid  its supervisor (what 'stop' signals)
#   INSTANCE.state           what the supervisor last did: running, restarting, gave-up
#   INSTANCE.port            the port it was started on
# and replicas, the instances per service that 'up' was last asked for.

SUPERVISE="$ROOT/infra/dev.d/supervise"
INSTANCE_PORT_STEP=20

# The offset of NAME's port from HTTP_PORT_BASE; nothing for a name that is no service.
service_offset() {
    local s
    for s in "${SERVICES[@]}"; do [[ "${s%%:*}" == "$1" ]] && echo "${s##*:}"; done
    return 0
}

is_service() { [[ -n "$(service_offset "$1")" ]]; }

# A service's name or one of its instances' (NAME#K); instance 1 is the service's name itself.
instance_service() { echo "${1%%#*}"; }
instance_number() { if [[ "$1" == *#* ]]; then echo "${1##*#}"; else echo 1; fi; }
is_instance() {
    local service number
    service="$(instance_service "$1")"
    number="$(instance_number "$1")"
    is_service "$service" && [[ "$number" =~ ^[1-9][0-9]?$ ]] && [[ "$1" != *"#1" ]]
}

# Only services that consume compete for a queue; the gateway simulator keeps its ledger in one process.
replicable() { [[ "$1" != gateway-sim ]]; }

# How many instances of each service: --replicas or ORDERLY_REPLICAS, else what 'up' was last asked for, else 1.
resolve_replicas() {
    local asked="${REPLICAS_ASKED:-${ORDERLY_REPLICAS:-}}"
    if [[ -z "$asked" ]]; then
        asked="$(read_pid "$SVC_DIR/replicas")"
        REPLICAS="${asked:-1}"
        return 0
    fi
    [[ "$asked" =~ ^[1-9]$ ]] || die "--replicas (ORDERLY_REPLICAS) must be a number from 1 to 9, not '$asked'"
    REPLICAS="$asked"
    ((HTTP_PORT_BASE + INSTANCE_PORT_STEP * (REPLICAS - 1) + 10 <= 65535)) ||
        die "$REPLICAS instances of each service need ports up to $((HTTP_PORT_BASE + INSTANCE_PORT_STEP * (REPLICAS - 1) + 10)); lower ORDERLY_HTTP_PORT_BASE"
}

# instance_name SERVICE K
instance_name() { if (($2 == 1)); then echo "$1"; else echo "$1#$2"; fi; }

# The instances of SERVICE to run: 1 to REPLICAS (one for the gateway simulator).
wanted_instances() {
    local count=1 k
    if replicable "$1"; then count="$REPLICAS"; fi
    for ((k = 1; k <= count; k++)); do instance_name "$1" "$k"; done
}

# The instances of SERVICE there are: the wanted ones, and any other that left files behind (it runs,
# or crashed) from an 'up' with more replicas.
known_instances() {
    local file name
    {
        wanted_instances "$1"
        for file in "$SVC_DIR/$1#"*.port "$SVC_DIR/$1#"*.supervisor.pid "$SVC_DIR/$1#"*.pid "$SVC_DIR/$1#"*.state; do
            [[ -e "$file" ]] || continue
            name="${file##*/}"
            name="${name%%.*}"
            if is_instance "$name"; then echo "$name"; fi
        done
    } | awk '!seen[$0]++' | sort -t'#' -k2,2n
}

# Every instance of NAME: all of a service's, or just the one named.
instances_named() { if [[ "$1" == *#* ]]; then echo "$1"; else known_instances "$1"; fi; }

# The port an instance listens on: the one it was started on, until it is stopped (so that
# one that runs or crashed is shown and found there without ORDERLY_HTTP_PORT_BASE), else
# HTTP_PORT_BASE plus its service's offset plus INSTANCE_PORT_STEP for each instance before it.
service_port() {
    local name="$1" port offset
    port="$(read_pid "$SVC_DIR/$name.port")"
    if [[ -z "$port" ]]; then
        offset="$(service_offset "$(instance_service "$name")")"
        if [[ -n "$offset" ]]; then port=$((HTTP_PORT_BASE + offset + INSTANCE_PORT_STEP * ($(instance_number "$name") - 1))); fi
    fi
    echo "$port"
}

# Unless ORDERLY_HTTP_PORT_BASE is given, services started earlier keep the base they
# were started with, and so does one that crashed and is started again.
adopt_http_port_base() {
    [[ -z "${ORDERLY_HTTP_PORT_BASE:-}" ]] || return 0
    local name port
    for name in "${SERVICE_NAMES[@]}"; do
        port="$(read_pid "$SVC_DIR/$name.port")"
        if [[ -n "$port" ]]; then
            HTTP_PORT_BASE=$((port - $(service_offset "$name")))
            return 0
        fi
    done
}

service_pid() {
    local name="$1" pid
    pid="$(read_pid "$SVC_DIR/$name.pid")"
    if pid_alive "$pid" && grep -qa "$(instance_service "$name")" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
}

supervisor_pid() {
    local name="$1" pid command
    pid="$(read_pid "$SVC_DIR/$name.supervisor.pid")"
    pid_alive "$pid" || return 0
    command="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    if [[ "$command" == *"/supervise $name "* ]]; then echo "$pid"; fi
}

# A service runs while its supervisor does (even between two restarts), or while the
# service process does without one (its supervisor killed, or started before there were any).
service_running() { [[ -n "$(supervisor_pid "$1")" || -n "$(service_pid "$1")" ]]; }

# Reads NAME.state into SVC_STATE (state, restarts, last_exit_text, ...), empty when there is none.
declare -A SVC_STATE=()
load_service_state() {
    SVC_STATE=()
    local line
    [[ -f "$SVC_DIR/$1.state" ]] || return 0
    while IFS= read -r line; do SVC_STATE["${line%%=*}"]="${line#*=}"; done <"$SVC_DIR/$1.state"
}

# "no restarts", "1 restart", "5 restarts".
restarts_text() {
    case "$1" in
        0) echo "no restarts" ;;
        1) echo "1 restart" ;;
        *) echo "$1 restarts" ;;
    esac
}

# "gave up after 5 restarts in 31.2s; last exit status 3 at <time>", from SVC_STATE.
gave_up_summary() {
    printf 'gave up after %s in %ss; last exit %s at %s' "$(restarts_text "${SVC_STATE[recent_restarts]:-?}")" \
        "${SVC_STATE[recent_seconds]:-?}" "${SVC_STATE[last_exit_text]:-?}" "${SVC_STATE[last_exit_at]:-?}"
}

remove_service_files() { rm -f "$SVC_DIR/$1.pid" "$SVC_DIR/$1.supervisor.pid" "$SVC_DIR/$1.state" "$SVC_DIR/$1.port"; }

# Answers the HTTP status code of GET http://127.0.0.1:PORT/PATH, without needing curl.
http_status() {
    local port="$1" path="$2"
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
        IFS=" " read -r _ code _ <&3 && echo "$code"
        cat <&3 >/dev/null # drain: closing early resets the connection under the server
    ' _ "$port" "$path" 2>/dev/null || true
}

service_ready() { [[ "$(http_status "$1" /health/ready)" == 200 ]]; }

release_bin_dir() { (cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null) || echo "$ROOT/.build/release"; }

# service_declared [NAME]: whether Package.swift declares NAME (or any service) yet.
service_declared() {
    local name
    for name in "${@:-${SERVICE_NAMES[@]}}"; do
        grep -q "name: \"$name\"" "$ROOT/Package.swift" && return 0
    done
    return 1
}

build_services() {
    info "building the services (swift build -c release)"
    local started
    started="$(now)"
    (cd "$ROOT" && swift build -c release) 9>&- || die "the release build failed"
    note "built in $(elapsed "$started")"
}

# Says so and succeeds when NAME runs, or is between two restarts: 'start' leaves it be.
report_running() {
    local name="$1" sup pid
    sup="$(supervisor_pid "$name")"
    pid="$(service_pid "$name")"
    if [[ -n "$sup" ]]; then
        load_service_state "$name"
        if [[ "${SVC_STATE[state]:-}" == restarting ]]; then
            note "$name is restarting (it exited with ${SVC_STATE[last_exit_text]:-?}; supervisor $sup)"
        else
            note "$name is already running (pid ${pid:-?}, supervisor $sup)"
        fi
        return 0
    fi
    if [[ -n "$pid" ]]; then
        note "$name is already running (pid $pid, without a supervisor; ./infra/dev restart $name gives it one)"
        return 0
    fi
    return 1
}

# The node an instance connects to first: instances and services take turns, so that their
# connections spread over a cluster's nodes (the others follow in the instance's failover list).
home_node() {
    local service number i
    service="$(instance_service "$1")"
    number="$(instance_number "$1")"
    for i in "${!SERVICE_NAMES[@]}"; do
        if [[ "${SERVICE_NAMES[i]}" == "$service" ]]; then echo $(((i + number - 1) % RABBIT_NODES + 1)); fi
    done
}

# start_service INSTANCE BIN: starts one instance under its supervisor and waits until it is ready.
start_service() {
    local name="$1" bin="$2" port sup service
    service="$(instance_service "$name")"
    report_running "$name" && return 0
    load_service_state "$name"
    if [[ "${SVC_STATE[state]:-}" == gave-up ]]; then
        note "$name had crashed: its supervisor $(gave_up_summary); starting it afresh"
    fi
    remove_service_files "$name"
    port="$(service_port "$name")"
    require_port_free "$port" "$name"
    mkdir -p "$SVC_DIR"
    info "starting $name (http://127.0.0.1:$port)"
    local log="$SVC_DIR/$name.log" environment
    # What it starts with is the catalog's, from the one place that makes it (orderly system env):
    # its own broker user (its home node first on a cluster) and database role, its port, where the
    # gateway and the other services are, the HTTP keys and the mail folder.
    environment="$("$bin/orderly" system env "$service" --secrets "$SECRETS_DIR" --port "$port" --http-port-base "$HTTP_PORT_BASE" \
        --amqp-url "$(amqp_url_for "$service" "$(home_node "$name")")" --database-url "$(operator_database_url)" \
        --mail-dir "$DATA/mail" 9>&-)" || die "orderly system env $service failed (output above)"
    local variables
    mapfile -t variables <<<"$environment"
    printf '\n=== infra/dev start %s ===\n' "$(date -Is)" >>"$log"
    # setsid: the supervisor and its service must outlive this script and the terminal or
    # test process that ran it. CLEAN_SIGNALS twice: the supervisor must take SIGTERM, and
    # bash starts its background children (the service) with SIGINT and SIGQUIT ignored.
    setsid "${CLEAN_SIGNALS[@]}" bash "$SUPERVISE" "$name" "$SVC_DIR" -- \
        "${CLEAN_SIGNALS[@]}" env "${variables[@]}" "$bin/$service" >>"$log" 2>&1 </dev/null 9>&- &
    sup=$!
    disown "$sup"
    echo "$sup" >"$SVC_DIR/$name.supervisor.pid"
    echo "$port" >"$SVC_DIR/$name.port"

    # Ready when /health/ready says so. A crash on the way is the supervisor's to handle;
    # it is reported here, and the start fails only if the supervisor gives up.
    local deadline=$((SECONDS + READY_TIMEOUT)) reported=0
    until service_ready "$port"; do
        if pid_gone "$sup"; then
            show_log_tail "$log"
            load_service_state "$name"
            [[ "${SVC_STATE[state]:-}" == gave-up ]] &&
                die "$name keeps crashing during start: its supervisor $(gave_up_summary) (log: $log)"
            die "the supervisor of $name exited during start (log: $log)"
        fi
        load_service_state "$name"
        if [[ "${SVC_STATE[state]:-}" == restarting ]] && ((${SVC_STATE[restarts]:-0} + 1 > reported)); then
            reported=$((${SVC_STATE[restarts]:-0} + 1))
            note "$name exited during start with ${SVC_STATE[last_exit_text]:-?}; restart $reported in ${SVC_STATE[next_start_in]:-?}"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$log"
            die "$name is not ready on http://127.0.0.1:$port/health/ready after ${READY_TIMEOUT}s (its supervisor keeps trying; ./infra/dev stop $name stops it)"
        fi
        sleep 0.2
    done
    note "$name ready (pid $(service_pid "$name"), supervisor $sup)"
}

# Instances beyond the replicas asked for (an earlier 'up --replicas' with more) are stopped.
stop_unwanted_instances() {
    local service name
    for service in "${SERVICE_NAMES[@]}"; do
        while IFS= read -r name; do
            if ! wanted_instances "$service" | grep -qxF "$name"; then stop_service "$name"; fi
        done < <(known_instances "$service")
    done
}

start_services() {
    # Until the package declares a service, a release build is time spent for nothing.
    service_declared || return 0
    mkdir -p "$SVC_DIR"
    echo "$REPLICAS" >"$SVC_DIR/replicas"
    stop_unwanted_instances
    local service name all_running=true
    for service in "${SERVICE_NAMES[@]}"; do
        while IFS= read -r name; do service_running "$name" || all_running=false; done < <(wanted_instances "$service")
    done
    if $all_running; then
        note "every service is already running"
        return 0
    fi
    build_services
    local bin
    bin="$(release_bin_dir)"
    # Users, permissions, the whole topology (each service declares only the queues it consumes
    # from, so until all of them had run once an event could find no queue bound for it), roles
    # and schemas, before any service starts.
    provision "$bin"
    for service in "${SERVICE_NAMES[@]}"; do
        [[ -x "$bin/$service" ]] || continue
        while IFS= read -r name; do start_service "$name" "$bin"; done < <(wanted_instances "$service")
    done
}

# The instances 'start NAME' means: the one named, or every instance of the service.
start_targets() { if [[ "$1" == *#* ]]; then echo "$1"; else wanted_instances "$1"; fi; }

# Builds the release and sets SERVICE_BIN to the folder holding NAME's executable, for 'start NAME'.
build_service() {
    local name="$1" service
    service="$(instance_service "$name")"
    rabbitmq_running && pg_running || die "$name needs rabbitmq and postgres; start them first (./infra/dev up)"
    build_services
    SERVICE_BIN="$(release_bin_dir)"
    [[ -x "$SERVICE_BIN/$service" ]] || die "the release build has no $SERVICE_BIN/$service"
}

start_named_service() {
    local name targets=() idle=()
    mapfile -t targets < <(start_targets "$1")
    for name in "${targets[@]}"; do report_running "$name" || idle+=("$name"); done
    ((${#idle[@]})) || return 0
    build_service "$1"
    for name in "${idle[@]}"; do start_service "$name" "$SERVICE_BIN"; done
}

# Built before it is stopped: a build that fails leaves the running service alone. One instance
# at a time, so that the others go on taking the service's messages meanwhile.
restart_named_service() {
    local name
    build_service "$1"
    while IFS= read -r name; do
        stop_service "$name"
        start_service "$name" "$SERVICE_BIN"
    done < <(start_targets "$1")
}

# 'stop NAME': the one instance named, or every instance of the service there is.
stop_named_service() {
    local name
    while IFS= read -r name; do stop_service "$name"; done < <(instances_named "$1")
}

stop_service() {
    local name="$1" sup pid group
    sup="$(supervisor_pid "$name")"
    pid="$(service_pid "$name")"
    if [[ -n "$sup" ]]; then
        info "stopping $name (pid ${pid:-none between two restarts}, supervisor $sup)"
        # The supervisor hands SIGTERM on, gives the service ORDERLY_STOP_TIMEOUT seconds
        # (20) to drain before SIGKILL, and exits without restarting it.
        local grace="${ORDERLY_STOP_TIMEOUT:-20}"
        grace="${grace%%.*}"
        [[ "$grace" =~ ^[0-9]+$ ]] || grace=20
        kill -TERM "$sup" 2>/dev/null || true
        if ! wait_for $((10#$grace + 10)) "the supervisor of $name to exit" pid_gone "$sup"; then
            warn "the supervisor of $name did not exit; killing it and $name"
            # setsid made the supervisor lead the process group its service is in.
            group="$(pgid_of "$sup")"
            if [[ -n "$group" && "$group" != "$(pgid_of $$)" ]]; then kill -KILL -- "-$group" 2>/dev/null || true; fi
            kill -KILL "$sup" 2>/dev/null || true
        fi
        pid="$(service_pid "$name")"
    fi
    if [[ -n "$pid" ]]; then
        # No supervisor, or one that left its service behind.
        [[ -n "$sup" ]] || info "stopping $name (pid $pid, without a supervisor)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_for 20 "$name to exit" pid_gone "$pid"; then
            warn "$name did not stop within 20s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    remove_service_files "$name"
}

stop_services() {
    local i
    for ((i = ${#SERVICE_NAMES[@]} - 1; i >= 0; i--)); do stop_named_service "${SERVICE_NAMES[i]}"; done
}

# One status line for each instance of a service.
status_of_service() {
    local name
    while IFS= read -r name; do status_of_instance "$name"; done < <(known_instances "$1")
}

status_of_instance() {
    local name="$1" port url sup pid
    port="$(service_port "$name")"
    url="http://127.0.0.1:$port"
    sup="$(supervisor_pid "$name")"
    pid="$(service_pid "$name")"
    load_service_state "$name"
    local restarts="${SVC_STATE[restarts]:-0}" state="${SVC_STATE[state]:-}" so_far
    so_far="$(restarts_text "$restarts")"
    if [[ -n "$sup" && "$state" == restarting ]]; then
        status_line "$name" restarting "$url" "(exited with ${SVC_STATE[last_exit_text]:-?} at ${SVC_STATE[last_exit_at]:-?}; restart $((restarts + 1)) in ${SVC_STATE[next_start_in]:-?}, supervisor $sup)"
    elif [[ -n "$pid" ]]; then
        local detail="pid $pid, $so_far, supervisor $sup"
        [[ -n "$sup" ]] || detail="pid $pid, without a supervisor"
        if service_ready "$port"; then
            status_line "$name" running "$url" "($detail)"
        else
            status_line "$name" starting "$url" "($detail, not ready)"
        fi
    elif [[ -n "$sup" ]]; then
        status_line "$name" starting "$url" "(supervisor $sup)"
    elif [[ "$state" == gave-up ]]; then
        status_line "$name" crashed "$url" "($(gave_up_summary))"
        if [[ -s "$SVC_DIR/$name.log" ]]; then
            printf '%s' "$DIM"
            tail -n 10 "$SVC_DIR/$name.log" | sed 's/^/      | /'
            printf '%s' "$RESET"
        fi
    elif [[ "$state" == running || "$state" == restarting ]]; then
        status_line "$name" stopped "$url" "(its supervisor is gone; last exit ${SVC_STATE[last_exit_text]:-none})"
    elif service_declared "$(instance_service "$name")"; then
        status_line "$name" stopped "$url"
    fi
}

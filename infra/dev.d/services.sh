# shellcheck shell=bash
# Sourced by infra/dev: the service processes.
#
# Each service executable found in the release build is started in the background
# with its pid file and log under $DATA/services; executables not written yet are
# skipped, so this section grows with the project without edits.

# The port NAME listens on: while it runs, the one it was started with (so that status
# and stop need not be told ORDERLY_HTTP_PORT_BASE again), else HTTP_PORT_BASE plus its offset.
service_port() {
    local name="$1" s port
    if service_running "$name"; then
        port="$(read_pid "$SVC_DIR/$name.port")"
        if [[ -n "$port" ]]; then
            echo "$port"
            return 0
        fi
    fi
    for s in "${SERVICES[@]}"; do [[ "${s%%:*}" == "$name" ]] && echo $((HTTP_PORT_BASE + ${s##*:})); done
    return 0
}

service_role() {
    local i
    for i in "${!SERVICE_NAMES[@]}"; do [[ "${SERVICE_NAMES[i]}" == "$1" ]] && echo "${SERVICE_ROLES[i]}"; done
    return 0
}

service_pid() {
    local name="$1" pid
    pid="$(read_pid "$SVC_DIR/$name.pid")"
    if pid_alive "$pid" && grep -qa "$name" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
}

service_running() { [[ -n "$(service_pid "$1")" ]]; }

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

start_service() {
    local name="$1" bin="$2" port
    port="$(service_port "$name")"
    if [[ -n "$(service_pid "$name")" ]]; then
        note "$name is already running (pid $(service_pid "$name"))"
        return 0
    fi
    require_port_free "$port" "$name"
    mkdir -p "$SVC_DIR"
    info "starting $name (http://127.0.0.1:$port)"
    local log="$SVC_DIR/$name.log"
    # ORDERLY_HTTP_PORT is how infra/dev tells a service its port; the service defaults match the table above.
    local role
    role="$(service_role "$name")"
    setsid "${CLEAN_SIGNALS[@]}" env ORDERLY_AMQP_URL="$AMQP_URL" ORDERLY_HTTP_PORT="$port" \
        ORDERLY_DATABASE_URL="postgresql://$role:$role@127.0.0.1:$PG_PORT/orderly" \
        ORDERLY_GATEWAY_URL="http://127.0.0.1:$(service_port gateway-sim)" ORDERLY_MAIL_DIR="$DATA/mail" \
        "$bin/$name" >>"$log" 2>&1 </dev/null 9>&- &
    local pid=$!
    disown "$pid"
    echo "$pid" >"$SVC_DIR/$name.pid"
    echo "$port" >"$SVC_DIR/$name.port"
    local deadline=$((SECONDS + READY_TIMEOUT))
    until service_ready "$port"; do
        if ! pid_alive "$pid"; then
            show_log_tail "$log"
            die "$name exited during start (log: $log)"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail "$log"
            die "$name is not ready on http://127.0.0.1:$port/health/ready after ${READY_TIMEOUT}s"
        fi
        sleep 0.2
    done
    note "$name ready (pid $pid)"
}

start_services() {
    # Until the package declares a service, a release build is time spent for nothing.
    service_declared || return 0
    local name all_running=true
    for name in "${SERVICE_NAMES[@]}"; do [[ -n "$(service_pid "$name")" ]] || all_running=false; done
    if $all_running; then
        note "every service is already running"
        return 0
    fi
    build_services
    local bin
    bin="$(release_bin_dir)"
    for name in "${SERVICE_NAMES[@]}"; do
        if [[ -x "$bin/$name" ]]; then start_service "$name" "$bin"; fi
    done
}

stop_service() {
    local name="$1" pid
    pid="$(service_pid "$name")"
    if [[ -z "$pid" ]]; then
        rm -f "$SVC_DIR/$name.pid" "$SVC_DIR/$name.port"
        return 0
    fi
    info "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 20 "$name to exit" pid_gone "$pid"; then
        warn "$name did not stop within 20s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$SVC_DIR/$name.pid" "$SVC_DIR/$name.port"
}

stop_services() {
    local i
    for ((i = ${#SERVICE_NAMES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICE_NAMES[i]}"; done
}

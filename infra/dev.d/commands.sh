# shellcheck shell=bash
# Sourced by infra/dev: the verbs up, down, status and logs.

print_urls() {
    echo
    echo "  rabbitmq              $AMQP_URL"
    echo "  postgres              $DATABASE_URL"
    local name port
    for name in "${SERVICE_NAMES[@]}"; do
        port="$(service_port "$name")"
        service_running "$name" && printf '  %-21s http://127.0.0.1:%s\n' "$name" "$port"
    done
    echo
    echo "  secrets (mode 0600)   $SECRETS_DIR: one file per password and key; operator.env for the CLI"
    echo "  the intake's API key  curl -H \"Authorization: Bearer \$(cat ${SECRETS_DIR#"$ROOT/"}/api-key)\" ..."
    # Built by the same release build as the services: ready without a second build.
    [[ -x "$ROOT/.build/release/orderly" ]] && echo "  the operator's CLI    .build/release/orderly --help (from $ROOT)"
    return 0
}

cmd_up() {
    local started
    started="$(now)"
    ensure_packages
    with_lock start_rabbitmq
    with_lock start_postgres
    with_lock start_services
    info "up in $(elapsed "$started")"
    print_urls
}

cmd_down() {
    with_lock stop_services
    with_lock stop_rabbitmq
    with_lock stop_postgres
}

status_line() {
    local name="$1" state="$2" url="$3" detail="${4:-}"
    local color="$DIM"
    case "$state" in
        running) color="$GREEN" ;;
        restarting | crashed) color="$RED" ;;
    esac
    printf '%-21s %s%-10s%s %s %s\n' "$name" "$color" "$state" "$RESET" "$url" "$detail"
}

cmd_status() {
    local pid
    pid="$(rabbitmq_pid)"
    if [[ -n "$pid" ]]; then status_line rabbitmq running "$AMQP_URL" "(pid $pid, node $RABBIT_NODE)"; else status_line rabbitmq stopped "$AMQP_URL"; fi
    if pg_running; then status_line postgres running "$DATABASE_URL" "(pid $(pg_postmaster_pid))"; else status_line postgres stopped "$DATABASE_URL"; fi
    local name
    for name in "${SERVICE_NAMES[@]}"; do status_of_service "$name"; done
    echo "data: $DATA"
}

log_files() {
    case "$1" in
        rabbitmq) printf '%s\n' "$RMQ_DIR/log/$RABBIT_NODE.log" "$RMQ_DIR/log/stdout.log" ;;
        postgres) echo "$PG_DIR/log/postgres.log" ;;
        *)
            [[ -n "$(service_port "$1")" ]] || die "unknown log '$1': expected rabbitmq, postgres or one of ${SERVICE_NAMES[*]}"
            echo "$SVC_DIR/$1.log"
            ;;
    esac
}

cmd_logs() {
    local follow=() names=() files=() candidates=() name file
    while (($#)); do
        case "$1" in
            -f | --follow) follow=(-F) ;;
            *) names+=("$1") ;;
        esac
        shift
    done
    ((${#names[@]})) || names=(rabbitmq postgres "${SERVICE_NAMES[@]}")
    for name in "${names[@]}"; do
        mapfile -t candidates < <(log_files "$name")
        for file in "${candidates[@]}"; do
            if [[ -f "$file" ]]; then files+=("$file"); fi
        done
    done
    ((${#files[@]})) || die "no logs yet under $DATA"
    exec tail -n "${LOG_LINES:-50}" "${follow[@]}" "${files[@]}"
}

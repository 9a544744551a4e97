# shellcheck shell=bash
# Sourced by infra/dev: the verbs up, down, status and logs.

# Where things are, without a password: those are in the secrets.
without_password() { sed 's#//\([^:/@]*\):[^@]*@#//\1@#'; }

print_urls() {
    echo
    printf '  %-23s %s\n' rabbitmq "$(operator_value ORDERLY_AMQP_URL | without_password)" postgres \
        "$(operator_value ORDERLY_DATABASE_URL | without_password)"
    orderly_system status | sed 's/^/  /'
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
    (($# == 0)) || die "unexpected arguments to up: $* (up takes --replicas N and --rabbit-nodes N)"
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
    # As wide as 'orderly system status' makes it, for the longest instance name.
    printf '%-23s %s%-10s%s %s %s\n' "$name" "$color" "$state" "$RESET" "$url" "$detail"
}

cmd_status() {
    local pid k url
    for ((k = 1; k <= RABBIT_NODES; k++)); do
        pid="$(node_pid "$k")"
        url="amqp://$OPERATOR_USER@127.0.0.1:$(node_amqp_port "$k")/"
        if [[ -n "$pid" ]]; then
            status_line "$(node_label "$k")" running "$url" "(pid $pid, node $(node_name "$k"))"
        else
            status_line "$(node_label "$k")" stopped "$url" "$(if ((RABBIT_NODES > 1)); then echo "(node $(node_name "$k"))"; fi)"
        fi
    done
    local database="postgresql://$OPERATOR_USER@127.0.0.1:$PG_PORT/orderly"
    if pg_running; then status_line postgres running "$database" "(pid $(pg_postmaster_pid))"; else status_line postgres stopped "$database"; fi
    orderly_system status || true
    echo "data: $DATA"
}

node_log_files() { printf '%s\n' "$(node_dir "$1")/log/$(node_name "$1").log" "$(node_dir "$1")/log/stdout.log"; }

log_files() {
    local k name
    case "$1" in
        rabbitmq) for ((k = 1; k <= RABBIT_NODES; k++)); do node_log_files "$k"; done ;;
        postgres) echo "$PG_DIR/log/postgres.log" ;;
        services) for name in "$SVC_DIR"/*.log; do echo "$name"; done ;;
        *)
            k="$(node_index "$1")"
            if [[ -n "$k" ]]; then
                node_log_files "$k"
            else
                # A service's instances (instance 1 is called by its name, instance K NAME#K), or the one named.
                for name in "$SVC_DIR/$1.log" "$SVC_DIR/$1#"*.log; do echo "$name"; done
            fi
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
    ((${#names[@]})) || names=(rabbitmq postgres services)
    for name in "${names[@]}"; do
        mapfile -t candidates < <(log_files "$name")
        for file in "${candidates[@]}"; do
            if [[ -f "$file" ]]; then files+=("$file"); fi
        done
    done
    ((${#files[@]})) || die "no logs of ${names[*]} under $DATA (a name is rabbitmq, rabbitmq-K, postgres, a service or an instance: order-service#2)"
    exec tail -n "${LOG_LINES:-50}" "${follow[@]}" "${files[@]}"
}

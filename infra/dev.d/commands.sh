# shellcheck shell=bash
# Sourced by infra/dev: the verbs up, down, status and logs.

# Where things are, without a password: those are in the secrets.
without_password() { sed 's#//\([^:/@]*\):[^@]*@#//\1@#'; }

print_urls() {
    echo
    printf '  %-23s %s\n' rabbitmq "$(operator_value ORDERLY_AMQP_URL | without_password)" postgres \
        "$(operator_value ORDERLY_DATABASE_URL | without_password)"
    orderly_system status --services-only | sed 's/^/  /'
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
    build_services
    with_lock orderly_system start rabbitmq postgres
    with_lock start_services
    info "up in $(elapsed "$started")"
    print_urls
}

cmd_down() {
    is_built || die "nothing is built, so nothing of this checkout runs"
    with_lock orderly_system stop
    with_lock orderly_system stop rabbitmq postgres
}

cmd_status() {
    if is_built; then orderly_system status; else note "nothing is built yet, so nothing runs: ./infra/dev up"; fi
    echo "data: $DATA"
}

cmd_logs() {
    local follow=() names=() files=()
    while (($#)); do
        case "$1" in
            -f | --follow) follow=(-F) ;;
            *) names+=("$1") ;;
        esac
        shift
    done
    mapfile -t files < <(orderly_system log-files "${names[@]+"${names[@]}"}")
    ((${#files[@]})) || die "no logs of ${names[*]:-anything} under $DATA yet"
    exec tail -n "${LOG_LINES:-50}" "${follow[@]+"${follow[@]}"}" "${files[@]}"
}

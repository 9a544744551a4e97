# shellcheck shell=bash
# Sourced by infra/dev: the services. Which there are, their instances and ports, how each reaches
# the brokers, their supervisors and their status are 'orderly system start|stop|restart|status'
# (Sources/LocalRun/LocalServices.swift); this part builds them and says where the brokers are.

release_bin_dir() { (cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null 9>&-) || echo "$ROOT/.build/release"; }

build_services() {
    info "building the services (swift build -c release)"
    local started
    started="$(now)"
    (cd "$ROOT" && swift build -c release) 9>&- || die "the release build failed"
    note "built in $(elapsed "$started")"
}

# orderly_system VERB ARGS...: 'orderly system VERB' for this installation, with the orderly of
# ORDERLY_SYSTEM_BIN (default: the release build). Fails with 3 when that has not been built.
orderly_system() {
    local verb="$1" bin="${ORDERLY_SYSTEM_BIN:-$(release_bin_dir)}"
    shift
    [[ -x "$bin/orderly" ]] || return 3
    "$bin/orderly" system "$verb" --data "$DATA" --amqp-port "$AMQP_PORT" --rabbit-nodes "$RABBIT_NODES" --pg-port "$PG_PORT" \
        ${REPLICAS_ASKED:+--replicas "$REPLICAS_ASKED"} "$@" 9>&-
}

# Users, permissions, the whole topology (each service declares only the queues it consumes from, so
# until all of them had run once an event could find no queue bound for it), roles and schemas,
# before any service starts; then every instance.
start_services() {
    build_services
    provision "$(release_bin_dir)"
    orderly_system start || die "the services did not all start (above)"
}

# 'start NAME' and 'restart NAME' for a service or an instance. Built before anything stops: a build
# that fails leaves the running service alone.
start_named_service() {
    rabbitmq_running && pg_running || die "$2 needs rabbitmq and postgres; start them first (./infra/dev up)"
    build_services
    orderly_system "$1" "$2" || die "orderly system $1 $2 failed (above)"
}

stop_services() {
    local status=0
    orderly_system stop "$@" || status=$?
    ((status != 3)) || note "no release build, so no service of it runs"
    ((status == 0 || status == 3)) || die "orderly system stop $* failed (above)"
}

# shellcheck shell=bash
# Sourced by infra/dev: the build, and 'orderly system', which runs the installation from it. RabbitMQ
# (one node or a cluster), PostgreSQL, the services' instances under their supervisors, their ports,
# URLs and status are Swift (Sources/LocalRun); this part builds it and passes on what it was asked.

release_bin_dir() { (cd "$ROOT" && swift build -c release --show-bin-path 2>/dev/null 9>&-) || echo "$ROOT/.build/release"; }

build_services() {
    info "building the services (swift build -c release)"
    local started
    started="$(now)"
    (cd "$ROOT" && swift build -c release) 9>&- || die "the release build failed"
    note "built in $(elapsed "$started")"
}

# The folder of the orderly that runs the installation: ORDERLY_SYSTEM_BIN, the build under test
# (ORDERLY_BIN_DIR), else the release build, else the debug build ('test' makes only that one).
system_bin() {
    local bin="${ORDERLY_SYSTEM_BIN:-${ORDERLY_BIN_DIR:-$(release_bin_dir)}}"
    if [[ -z "${ORDERLY_SYSTEM_BIN:-}${ORDERLY_BIN_DIR:-}" && ! -x "$bin/orderly" ]]; then
        bin="$(cd "$ROOT" && swift build --show-bin-path 2>/dev/null 9>&-)"
    fi
    echo "$bin"
}
is_built() { [[ -x "$(system_bin)/orderly" ]]; }

# orderly_system VERB ARGS...: 'orderly system VERB' for this installation.
orderly_system() {
    local verb="$1" bin
    shift
    bin="$(system_bin)"
    [[ -x "$bin/orderly" ]] || die "nothing is built yet: ./infra/dev up builds and starts everything"
    "$bin/orderly" system "$verb" --data "$DATA" ${RABBIT_NODES_ASKED:+--rabbit-nodes "$RABBIT_NODES_ASKED"} \
        ${REPLICAS_ASKED:+--replicas "$REPLICAS_ASKED"} "$@" 9>&-
}

# Users, permissions, the whole topology (each service declares only the queues it consumes from, so
# until all of them had run once an event could find no queue bound for it), roles and schemas,
# before any service starts; then every instance.
start_services() {
    provision "$(system_bin)"
    orderly_system start
}

# shellcheck shell=bash
# Sourced by infra/dev: 'test', the whole suite in three passes.

# phase NAME COMMAND...: runs COMMAND, prints how long it took, remembers failures.
PHASES=()
FAILED=0
phase() {
    local name="$1" started status=0
    shift
    info "$name"
    started="$(now)"
    # Not '"$@" || status=$?': bash would ignore set -e inside the command.
    set +e
    (
        set -e
        "$@"
    )
    status=$?
    set -e
    local took
    took="$(elapsed "$started")"
    if ((status == 0)); then
        PHASES+=("$(printf '%-28s %8s  ok' "$name" "$took")")
    else
        PHASES+=("$(printf '%-28s %8s  FAILED (exit %d)' "$name" "$took" "$status")")
        FAILED=1
    fi
    note "$name: $took"
    return "$status"
}

summary() {
    echo
    info "summary"
    local line
    for line in "${PHASES[@]}"; do note "$line"; done
}

in_root() { (cd "$ROOT" && "$@"); }

start_brokers() {
    start_rabbitmq
    start_postgres
}

# The suites whose names say Fault, one per line (e.g. AMQPTests.AMQPFaultTests).
fault_suites() {
    (cd "$ROOT" && swift test list --skip-build 2>/dev/null) | grep Fault | sed 's|/.*||' | sort -u || true
}

# Fault suites stop and start the shared broker and database, so they run one suite at a time:
# swift test's --no-parallel serializes the tests of a suite, not suites against each other.
fault_pass() {
    local suites suite status=0
    suites="$(fault_suites)"
    if [[ -z "$suites" ]]; then
        note "no Fault tests in the suite; skipping this pass"
        return 0
    fi
    for suite in $suites; do
        (cd "$ROOT" && swift test --skip-build --filter "$suite/" --no-parallel) || status=1
    done
    return "$status"
}

# first_free_port FROM [OFFSET...]: the first port from FROM on that is free, and PORT+OFFSET with it.
first_free_port() {
    local from="$1" port offset ok
    shift
    for ((port = from; port < from + 100; port++)); do
        ok=1
        for offset in 0 "$@"; do
            if port_listening $((port + offset)); then ok=0; fi
        done
        if ((ok)); then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# The tests only know the brokers through the URLs they are given, so when another
# checkout (a developer's 'up', or CI in a fresh clone) holds the default ports,
# the suite runs on free ones instead of failing; explicit ports are left alone.
choose_test_ports() {
    local amqp="$AMQP_PORT" pg="$PG_PORT"
    if [[ -z "${ORDERLY_AMQP_PORT:-}" ]] && ! rabbitmq_running &&
        { port_listening "$AMQP_PORT" || port_listening "$RABBIT_DIST_PORT"; }; then
        amqp="$(first_free_port $((AMQP_PORT + 1)) 20000)" || die "no free AMQP port near $AMQP_PORT"
        note "port $AMQP_PORT is held by another process (another checkout?); this run uses $amqp"
    fi
    if [[ -z "${ORDERLY_PG_PORT:-}" ]] && ! pg_running && port_listening "$PG_PORT"; then
        pg="$(first_free_port $((PG_PORT + 1)))" || die "no free PostgreSQL port near $PG_PORT"
        note "port $PG_PORT is held by another process (another checkout?); this run uses $pg"
    fi
    set_ports "$amqp" "$pg"
}

cmd_test() {
    local started
    started="$(now)"
    choose_test_ports
    if [[ "${CI:-}" == true ]]; then
        # CI machines are thrown away anyway, but a clean stop keeps the job log honest.
        trap 'with_lock stop_rabbitmq; with_lock stop_postgres' EXIT
    fi

    export ORDERLY_DEV="$DEV_SCRIPT" ORDERLY_SECRETS_DIR="$SECRETS_DIR"
    export ORDERLY_DATA_DIR="$DATA" ORDERLY_AMQP_PORT="$AMQP_PORT" ORDERLY_PG_PORT="$PG_PORT"
    # compose.yaml is validated with docker-compose, the operator's page rendered with chromium and the
    # HTTP edge checked by schemathesis, which the packages phase installs: here a missing one fails its
    # test rather than skipping it.
    export ORDERLY_REQUIRE_DOCKER_COMPOSE=1 ORDERLY_REQUIRE_CHROMIUM=1 ORDERLY_SCHEMATHESIS="$(schemathesis_venv)/bin/schemathesis"

    phase "packages" ensure_packages "${TEST_PACKAGES[@]}" || { summary; exit 1; }
    phase "schemathesis" ensure_schemathesis || { summary; exit 1; }
    phase "rabbitmq + postgres" with_lock start_brokers || { summary; exit 1; }
    phase "swift format lint" in_root swift format lint --strict --recursive Sources Tests Package.swift || true
    phase "imports declared, public API" in_root ./infra/check-imports || true
    phase "swift build --build-tests" in_root swift build --build-tests || { summary; exit 1; }
    ORDERLY_BIN_DIR="$(cd "$ROOT" && swift build --show-bin-path)"
    export ORDERLY_BIN_DIR
    phase "provision" with_lock provision "$ORDERLY_BIN_DIR" || { summary; exit 1; }
    # The tests log in as the operator; tests that act as a service, or run services as processes,
    # read that service's password from the secrets the provisioning made.
    ORDERLY_AMQP_URL="$(operator_value ORDERLY_AMQP_URL)" ORDERLY_DATABASE_URL="$(operator_value ORDERLY_DATABASE_URL)"
    export ORDERLY_AMQP_URL ORDERLY_DATABASE_URL
    phase "tests (parallel)" in_root swift test --skip-build --parallel --skip Fault --skip EndToEnd || true
    # The end-to-end suites start every service as a process: alone, they do not starve each other's deadlines.
    phase "end-to-end tests" in_root swift test --skip-build --filter EndToEnd --skip Fault || true
    phase "fault tests (serial)" fault_pass || true
    summary
    info "total $(elapsed "$started")"
    ((FAILED == 0)) || exit 1
}

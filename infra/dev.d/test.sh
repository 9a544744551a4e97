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

# The DocC catalogs of the three libraries build without a warning: no broken link, no undocumented parameter.
docs() {
    local graphs module folder log="$DATA/docs.log"
    in_root swift package dump-symbol-graph --minimum-access-level public >"$log" 2>&1 || { tail -30 "$log"; return 1; }
    graphs="$(dirname "$ORDERLY_BIN_DIR")/symbolgraph"
    for module in AMQP Postgres Messaging; do
        folder="$(mktemp -d)"
        find "$graphs" -maxdepth 1 \( -name "$module.symbols.json" -o -name "$module@*.symbols.json" \) -exec cp {} "$folder/" \;
        docc convert "$ROOT/Sources/$module/$module.docc" --additional-symbol-graph-dir "$folder" --output-path "$folder/docs" \
            --fallback-display-name "$module" --fallback-bundle-identifier "orderly.$module" --warnings-as-errors >/dev/null || return 1
        rm -rf "$folder"
    done
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

cmd_test() {
    local started
    started="$(now)"
    if [[ "${CI:-}" == true ]]; then
        # CI machines are thrown away anyway, but a clean stop keeps the job log honest.
        trap 'is_built && with_lock orderly_system stop rabbitmq postgres' EXIT
    fi

    export ORDERLY_DEV="$DEV_SCRIPT" ORDERLY_SECRETS_DIR="$SECRETS_DIR"
    export ORDERLY_DATA_DIR="$DATA"
    # compose.yaml is validated with docker-compose, the operator's page rendered with chromium and the
    # HTTP edge checked by schemathesis, which the packages phase installs: here a missing one fails its
    # test rather than skipping it.
    export ORDERLY_REQUIRE_DOCKER_COMPOSE=1 ORDERLY_REQUIRE_CHROMIUM=1 ORDERLY_SCHEMATHESIS="$(schemathesis_venv)/bin/schemathesis"

    phase "packages" ensure_packages "${TEST_PACKAGES[@]}" || { summary; exit 1; }
    phase "python tools" ensure_schemathesis || { summary; exit 1; }
    phase "swift format lint" in_root swift format lint --strict --recursive Sources Tests Package.swift || true
    phase "imports declared, public API" in_root ./infra/check-imports || true
    phase "swift build --build-tests" in_root swift build --build-tests || { summary; exit 1; }
    ORDERLY_BIN_DIR="$(cd "$ROOT" && swift build --show-bin-path)"
    export ORDERLY_BIN_DIR
    phase "DocC catalogs" docs || true
    # The tests only know the brokers through the URLs and ports they are given, so when another checkout
    # (a developer's 'up', or CI in a fresh clone) holds the default ports, the suite runs on free ones.
    phase "rabbitmq + postgres" with_lock orderly_system start rabbitmq postgres --free-ports || { summary; exit 1; }
    local ports
    ports="$(orderly_system ports)"
    ORDERLY_AMQP_PORT="$(sed -n 's/^ORDERLY_AMQP_PORT=//p' <<<"$ports")" ORDERLY_PG_PORT="$(sed -n 's/^ORDERLY_PG_PORT=//p' <<<"$ports")"
    export ORDERLY_AMQP_PORT ORDERLY_PG_PORT
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

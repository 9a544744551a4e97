# shellcheck shell=bash
# Sourced by infra/dev: PostgreSQL, one cluster of its own under the data folder.

pg_bin() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)"
    [[ -n "$dir" ]] || die "no PostgreSQL under /usr/lib/postgresql; is the postgresql package installed?"
    echo "$dir"
}

pg_postmaster_pid() { head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true; }
pg_postmaster_port() { sed -n 4p "$PG_DIR/data/postmaster.pid" 2>/dev/null || true; }

# What pg_ctl status checks, minus its blind spot for a zombie postmaster.
pg_running() {
    local pid
    pid="$(pg_postmaster_pid)"
    pid_alive "$pid" && grep -qa postgres "/proc/$pid/cmdline" 2>/dev/null
}

prepare_postgres() {
    ensure_traversable "$DATA"
    own_dir "$PG_DIR" postgres
    own_dir "$PG_DIR/run" postgres 755
    own_dir "$PG_DIR/log" postgres

    local socket="$PG_DIR/run/.s.PGSQL.$PG_PORT"
    ((${#socket} < 108)) || die "the socket path $socket is too long for Unix sockets; use a shorter ORDERLY_DATA_DIR"

    local bin version
    bin="$(pg_bin)"
    version="$("$bin/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/')"
    if [[ -f "$PG_DIR/data/PG_VERSION" ]]; then
        local have
        have="$(cat "$PG_DIR/data/PG_VERSION")"
        [[ "$have" == "$version" ]] ||
            die "the cluster in $PG_DIR/data is PostgreSQL $have but the newest installed is $version; remove $PG_DIR to start afresh"
    else
        info "creating the PostgreSQL $version cluster in $PG_DIR/data"
        own_dir "$PG_DIR/data" postgres 700
        (cd "$PG_DIR" && as_user postgres "$bin/initdb" -D "$PG_DIR/data" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale) \
            >"$PG_DIR/log/initdb.log" 2>&1 9>&- || {
            show_log_tail "$PG_DIR/log/initdb.log"
            die "initdb failed"
        }
        echo "include_if_exists = 'orderly.conf'" >>"$PG_DIR/data/postgresql.conf"
    fi

    # Listen address, port and socket come from the command line, so that they always match this script.
    write_if_changed "$PG_DIR/data/orderly.conf" <<EOF
# Written by infra/dev: edit the script, not this file.
max_connections = 300
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_lock_waits = on
# Statement statistics (pg_stat_statements, from postgresql-contrib) for finding where the time goes.
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top

$(cat "$ROOT/infra/postgres/tuning.conf")
EOF
    is_root && chown postgres: "$PG_DIR/data/orderly.conf"
    return 0
}

# psql_admin [-d DATABASE]: psql as the superuser over the local socket, SQL on stdin.
psql_admin() {
    local database=postgres
    if [[ "${1:-}" == -d ]]; then database="$2"; fi
    (cd "$PG_DIR" && as_user postgres "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PG_DIR/run" -p "$PG_PORT" -U postgres -d "$database") 9>&-
}

pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }

# The operator's role (the database's owner, which may create databases and roles) and the
# database, with the operator's password from the secrets. The services' roles and schemas are
# 'orderly system provision's, from the catalog, so that this script and the containers' init
# (infra/docker/postgres-init.sh) cannot drift apart.
ensure_roles() {
    psql_admin <<SQL
SET client_min_messages TO warning;
\\set password '$(secret "postgres-$OPERATOR_USER")'
SELECT 'CREATE ROLE $OPERATOR_USER LOGIN CREATEDB CREATEROLE'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$OPERATOR_USER') \\gexec
ALTER ROLE $OPERATOR_USER WITH LOGIN CREATEDB CREATEROLE PASSWORD :'password';
SELECT 'CREATE DATABASE orderly OWNER $OPERATOR_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'orderly') \\gexec
SQL
}

start_postgres() {
    if pg_running; then
        local port
        port="$(pg_postmaster_port)"
        [[ -z "$port" || "$port" == "$PG_PORT" ]] ||
            die "this checkout's postgres already runs on port $port, not $PG_PORT; stop it first"
        note "postgres is already running (pid $(pg_postmaster_pid))"
        ensure_roles
        return 0
    fi
    require_port_free "$PG_PORT" "PostgreSQL"
    prepare_postgres

    info "starting postgres (127.0.0.1:$PG_PORT)"
    local started log="$PG_DIR/log/postgres.log"
    started="$(now)"
    local run_as=()
    is_root && run_as=(runuser -u postgres --)
    if ! (cd "$PG_DIR" && "${CLEAN_SIGNALS[@]}" "${run_as[@]}" "$(pg_bin)/pg_ctl" start -D "$PG_DIR/data" -l "$log" \
        -w -t "$READY_TIMEOUT" -o "-k $PG_DIR/run -h 127.0.0.1 -p $PG_PORT") >/dev/null 9>&-; then
        show_log_tail "$log"
        die "postgres did not start (log: $log)"
    fi
    wait_for "$READY_TIMEOUT" "postgres to accept connections" pg_ready || {
        show_log_tail "$log"
        die "postgres started but does not accept connections on 127.0.0.1:$PG_PORT"
    }
    ensure_roles
    note "postgres ready in $(elapsed "$started") (pid $(pg_postmaster_pid))"
}

stop_postgres() {
    if ! pg_running; then
        note "postgres is not running"
        return 0
    fi
    info "stopping postgres (pid $(pg_postmaster_pid))"
    local started
    started="$(now)"
    # fast: disconnect clients and shut down cleanly, which is what a fault test wants.
    (cd "$PG_DIR" && as_user postgres "$(pg_bin)/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -t 60) >/dev/null 9>&- || {
        warn "postgres did not stop within 60s; stopping it immediately"
        (cd "$PG_DIR" && as_user postgres "$(pg_bin)/pg_ctl" stop -D "$PG_DIR/data" -m immediate -w -t 30) >/dev/null 9>&-
    }
    wait_for 10 "port $PG_PORT to close" port_closed "$PG_PORT" ||
        die "postgres stopped but port $PG_PORT is still open"
    note "postgres stopped in $(elapsed "$started")"
}

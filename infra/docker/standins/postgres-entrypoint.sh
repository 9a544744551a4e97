#!/usr/bin/env bash
# The postgres stand-in's entry point (a test fixture): what compose.yaml relies on from the official
# image. On the first start, with an empty PGDATA: a cluster whose superuser is POSTGRES_USER with
# POSTGRES_PASSWORD, the database POSTGRES_DB, password logins from the network, and every
# /docker-entrypoint-initdb.d script (*.sh run, *.sql read by psql) against a server on its socket
# only. Then the server itself, as the postgres user, listening on every interface.
set -euo pipefail

if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    export POSTGRES_USER="${POSTGRES_USER:-postgres}" POSTGRES_DB="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    pg_ctl --wait --silent --options="-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start
    if [[ "$POSTGRES_DB" != postgres ]]; then
        psql --username="$POSTGRES_USER" --dbname=postgres -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) echo "stand-in: running $script"; bash "$script" ;;
            *.sql) echo "stand-in: reading $script"; psql --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" -v ON_ERROR_STOP=1 -f "$script" ;;
        esac
    done
    pg_ctl --wait --silent --mode=fast stop
fi

if [[ "${1:-}" == postgres ]]; then
    shift
    exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"

#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). The image has already created POSTGRES_USER, the operator
# (`orderly`), and POSTGRES_DB (`orderly`). Here: each service's role and schema, by the script
# generated from the system catalog (infra/postgres/provision.sql, mounted as /orderly/provision.sql),
# with each role's password from its variable (ORDERLY_DB_PASSWORD_ORDERS, …). It is the same
# script that `orderly system provision` runs for ./infra/dev up, so the two cannot drift apart. And the
# settings Orderly's work wants, the same file ./infra/dev up uses.
set -euo pipefail

script=/orderly/provision.sql
variables=()
for variable in $(grep -o ":'ORDERLY_DB_PASSWORD_[A-Z0-9_]*'" "$script" | tr -d ":'" | sort -u); do
    if [[ -z "${!variable:-}" ]]; then
        echo "postgres-init: $variable is not set; set it in .env (see .env.example)" >&2
        exit 78
    fi
    variables+=(-v "$variable=${!variable}")
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "${variables[@]}" -f "$script"

# Orderly's settings (infra/postgres/tuning.conf, mounted here), read from the server's next start on, which
# follows this script.
echo "include_if_exists = '/etc/postgresql/orderly-tuning.conf'" >>"$PGDATA/postgresql.conf"

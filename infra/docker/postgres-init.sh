#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). The image has already created POSTGRES_USER and POSTGRES_DB
# (`orderly`). Here: one login role per service, and one schema per service owned by that
# role, so that each service reads and writes its own tables and nothing else.
#
# Passwords come from ORDERLY_<ROLE>_DB_PASSWORD (e.g. ORDERLY_ORDERS_DB_PASSWORD), default: the
# role's name, as on the developer machines.
set -euo pipefail

ROLES=(orders payments inventory notifications gateway)

for role in "${ROLES[@]}"; do
    variable="ORDERLY_${role^^}_DB_PASSWORD"
    password="${!variable:-$role}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v role="$role" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'role', :'role') \gexec
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'role') \gexec
-- The migrator runs CREATE SCHEMA IF NOT EXISTS, which PostgreSQL checks against the database's
-- CREATE privilege even when the schema exists.
SELECT format('GRANT CONNECT, CREATE ON DATABASE %I TO %I', current_database(), :'role') \gexec
SELECT format('ALTER ROLE %I SET search_path = %I', :'role', :'role') \gexec
SQL
done

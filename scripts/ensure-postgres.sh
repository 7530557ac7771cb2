#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 for the ledger tests.
# The tests connect as the current OS user (trust or peer-free local auth) to the
# database named by VAULT_TEST_PG_ADMIN_DB (default "test") and create and drop
# their own databases. Starts an installed cluster if it is stopped; installs
# PostgreSQL from Debian's packages only when running as root.
set -euo pipefail

host=127.0.0.1
port=5432
admin_db=${VAULT_TEST_PG_ADMIN_DB:-test}
user=${VAULT_TEST_PG_USER:-$(id -un)}

ready() { command -v pg_isready >/dev/null && pg_isready -q -h "$host" -p "$port"; }

if ! ready; then
    if ! command -v pg_ctlcluster >/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "error: PostgreSQL is not running on $host:$port and is not installed; install it (apt-get install -y postgresql) or point VAULT_TEST_DATABASE_URL at a server" >&2
            exit 1
        fi
        echo "installing PostgreSQL from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "starting PostgreSQL cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do ready && break; sleep 1; done
    ready || { echo "error: PostgreSQL did not come up on $host:$port; check 'pg_lsclusters'" >&2; exit 1; }
fi

# The role and admin database the tests use.
if ! psql -h "$host" -p "$port" -U "$user" -d "$admin_db" -Atc 'select 1' >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
        su postgres -c "psql -p $port -Atc \"select 1 from pg_roles where rolname='$user'\"" | grep -q 1 \
            || su postgres -c "psql -p $port -c \"create role \\\"$user\\\" login createdb superuser\""
        su postgres -c "psql -p $port -Atc \"select 1 from pg_database where datname='$admin_db'\"" | grep -q 1 \
            || su postgres -c "createdb -p $port -O \"$user\" \"$admin_db\""
    fi
fi
psql -h "$host" -p "$port" -U "$user" -d "$admin_db" -Atc 'select 1' >/dev/null 2>&1 || {
    echo "error: cannot connect to PostgreSQL as role '$user' to database '$admin_db' on $host:$port;" \
         "create them (createuser -s $user; createdb $admin_db) or set VAULT_TEST_PG_USER / VAULT_TEST_PG_ADMIN_DB" >&2
    exit 1
}
echo "PostgreSQL ready on $host:$port (role $user, database $admin_db)"

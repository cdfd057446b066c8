#!/usr/bin/env bash
# The integration tests' Postgres: Debian's packaged cluster (installed with apt when missing), a login
# role, and a fresh database per run. Subcommands (results on stdout, progress on stderr):
#   start            ensure installed and running; prints "started" or "already-running"
#   create-db        create the role if needed (CREATEDB, and CREATEROLE for database.mode shared-schema) and a
#                    new database; prints its postgres:// URL
#   drop-db <name>   drop a database made by create-db (idempotent)
#   stop             stop the cluster
# Environment: DEMO_TEST_PG_ROLE / DEMO_TEST_PG_PASSWORD (default demo_test / demo_test).
set -euo pipefail

ROLE="${DEMO_TEST_PG_ROLE:-demo_test}"
PASSWORD="${DEMO_TEST_PG_PASSWORD:-demo_test}"
DB_PREFIX=demo_test_

log() { printf '[postgres %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

install_postgres() {
  command -v pg_lsclusters >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: Postgres is not installed; on Debian: apt-get install -y postgresql" >&2
    exit 1
  fi
  log "installing postgresql with apt-get"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# First cluster of the newest installed major version: "<version> <name> <port> <status>".
cluster_line() { pg_lsclusters -h 2>/dev/null | sort -k1,1nr | awk 'NR == 1 { print $1, $2, $3, $4 }'; }

ensure_cluster_exists() {
  [ -n "$(cluster_line)" ] && return 0
  local version
  version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)"
  log "creating Postgres $version cluster \"main\""
  pg_createcluster "$version" main >&2
}

# Postgres refuses to run as root; Debian's cluster belongs to the postgres user.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  else sudo -n -u postgres -- "$@"
  fi
}

psql_admin() {
  local port
  port="$(cluster_line | awk '{print $3}')"
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
}

start() {
  install_postgres
  ensure_cluster_exists
  local version name port status
  read -r version name port status <<< "$(cluster_line)"
  if [ "$status" = online ]; then
    echo already-running
    return 0
  fi
  log "starting Postgres $version/$name on port $port"
  pg_ctlcluster "$version" "$name" start >&2
  for _ in $(seq 1 60); do
    as_postgres pg_isready -q -p "$port" && { echo started; return 0; }
    sleep 0.5
  done
  echo "error: Postgres $version/$name did not accept connections within 30s" >&2
  exit 1
}

drop_stale_databases() {
  # Databases of runs that were killed before their cleanup; the name carries the creation time.
  local cutoff db
  cutoff="$(date -u -d '1 day ago' +%Y%m%d%H%M%S)"
  for db in $(psql_admin -At -c "SELECT datname FROM pg_database WHERE datname ~ '^${DB_PREFIX}[0-9]{14}_'"); do
    if [[ "${db#"$DB_PREFIX"}" < "$cutoff" ]]; then
      log "dropping stale database $db"
      psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    fi
  done
}

create_db() {
  local db port
  db="${DB_PREFIX}$(date -u +%Y%m%d%H%M%S)_$$"
  port="$(cluster_line | awk '{print $3}')"
  drop_stale_databases
  psql_admin -v role="$ROLE" -v password="$PASSWORD" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB CREATEROLE', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB CREATEROLE PASSWORD %L', :'role', :'password') \gexec
SQL
  psql_admin -c "CREATE DATABASE \"$db\" OWNER \"$ROLE\"" >&2
  log "created database $db"
  echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$db"
}

drop_db() {
  local db="${1:?usage: postgres.sh drop-db <name>}"
  [[ "$db" == "$DB_PREFIX"* ]] || { echo "error: refusing to drop \"$db\": not a $DB_PREFIX* database" >&2; exit 2; }
  psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2
  log "dropped database $db"
}

stop() {
  local version name port status
  read -r version name port status <<< "$(cluster_line)"
  [ "$status" = online ] || return 0
  log "stopping Postgres $version/$name"
  pg_ctlcluster "$version" "$name" stop >&2
}

case "${1:-}" in
  start) start ;;
  create-db) create_db ;;
  drop-db) drop_db "${2:-}" ;;
  stop) stop ;;
  *) echo "usage: postgres.sh start|create-db|drop-db <name>|stop" >&2; exit 2 ;;
esac

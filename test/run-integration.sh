#!/usr/bin/env bash
# Runs the integration and end-to-end tests (test/integration/**/*.test.ts, test/e2e/**/*.test.ts) against
# real Postgres and the local control plane. It starts whatever is not running yet, gives the run a fresh
# database, and afterwards drops that database and stops only what it started. Exits with the tests' status.
# Arguments: test files or directories to run instead of all of them, and options for `node --test`
# (e.g. `bash test/run-integration.sh test/integration/cluster --test-name-pattern=quota`).
# See docs/local-cluster.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="$repo/node_modules/.bin:$PATH"

log() { printf '[integration %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

started_postgres=false
started_cluster=false
database=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$database" ]; then bash test/support/postgres.sh drop-db "$database" || status=1; fi
  if $started_cluster; then bash test/cluster/down.sh || status=1; fi
  if $started_postgres; then bash test/support/postgres.sh stop || status=1; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

shopt -s globstar nullglob
options=()
paths=()
for arg in "$@"; do
  case "$arg" in
    -*) options+=("$arg") ;;
    *) paths+=("$arg") ;;
  esac
done
[ ${#paths[@]} -gt 0 ] || paths=(test/integration test/e2e)
files=()
for path in "${paths[@]}"; do
  if [ -d "$path" ]; then files+=("$path"/**/*.test.ts); else files+=("$path"); fi
done
if [ ${#files[@]} -eq 0 ]; then
  log "no integration or e2e tests found"
  exit 0
fi

postgres_state="$(bash test/support/postgres.sh start)"
if [ "$postgres_state" = started ]; then started_postgres=true; fi
DEMO_TEST_DATABASE_URL="$(bash test/support/postgres.sh create-db)"
database="${DEMO_TEST_DATABASE_URL##*/}"
export DEMO_TEST_DATABASE_URL

if bash test/cluster/status.sh >/dev/null 2>&1; then
  log "using the running test cluster \"${DEMO_CLUSTER_NAME:-local}\" (left running afterwards)"
else
  started_cluster=true
fi
DEMO_TEST_KUBECONFIG="$(bash test/cluster/up.sh | tail -n 1)"
export DEMO_TEST_KUBECONFIG

log "database $database, kubeconfig $DEMO_TEST_KUBECONFIG; running ${#files[@]} test files"
status=0
node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${options[@]}" "${files[@]}" || status=$?
exit "$status"

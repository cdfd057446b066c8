#!/usr/bin/env bash
# Stops every process of the test cluster $DEMO_CLUSTER_NAME (default "local"), found by its pid files;
# a pid is only signalled when it still runs the binary recorded for it. Keeps the state (etcd data,
# PKI, ports) for the next up.sh unless --purge is given. Idempotent. See docs/local-cluster.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

purge=false
case "${1:-}" in
  "") ;;
  --purge) purge=true ;;
  -h|--help) echo "usage: down.sh [--purge]   (DEMO_CLUSTER_NAME selects the cluster, default local)"; exit 0 ;;
  *) echo "usage: down.sh [--purge]" >&2; exit 2 ;;
esac

mkdir -p "$STATE_ROOT"
# Under up.sh the lock is already held by our caller (fd 9 is inherited); taking it again would deadlock.
if [ -z "${DEMO_TESTBED_LOCKED:-}" ]; then
  exec 9>"$STATE_ROOT/$CLUSTER_NAME.lock"
  flock 9
fi

stop() {
  local c="$1" pid
  if ! pid="$(pid_of "$c")"; then
    [ -f "$STATE/run/$c.pid" ] && log "$c is not running (stale pid file removed)"
    rm -f "$STATE/run/$c.pid"
    return 0
  fi
  log "stopping $c (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    [ "$(pid_of "$c" || true)" = "$pid" ] || break
    sleep 0.2
  done
  if [ "$(pid_of "$c" || true)" = "$pid" ]; then
    log "$c did not stop within 20s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/run/$c.pid"
}

for c in "${COMPONENTS[@]}"; do stop "$c"; done
rmdir "$STATE/run" 2>/dev/null || true

if $purge; then
  log "removing $STATE"
  rm -rf "$STATE"
fi

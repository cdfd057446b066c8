#!/usr/bin/env bash
# Prints the state of the test cluster $DEMO_CLUSTER_NAME (default "local"): each component's pid, port
# and health, and the kubeconfig path. Exits 0 only when every component is up and healthy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

echo "cluster:    $CLUSTER_NAME"
echo "state:      $STATE"
if ! load_ports; then
  echo "status:     not created (run: npm run cluster:up)"
  exit 1
fi
[ -f "$STATE/bin-dir" ] && echo "binaries:   $(cat "$STATE/bin-dir")"
echo "kubeconfig: $KUBECONFIG_PATH"
port_of() {
  case "$1" in
    etcd) echo "$ETCD_PORT (peer $ETCD_PEER_PORT)" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$KCM_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT" ;;
  esac
}
up=true
for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  if pid="$(pid_of "$c")"; then
    rss="$(awk '/^VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)"
    if component_healthy "$c"; then health=healthy; else health=UNHEALTHY; up=false; fi
    printf '%-24s %-9s pid %-7s port %-18s rss %s\n' "$c" "$health" "$pid" "$(port_of "$c")" "$rss"
  else
    printf '%-24s %-9s port %s\n' "$c" stopped "$(port_of "$c")"
    up=false
  fi
done
if $up; then echo "status:     up"; else echo "status:     down (run: npm run cluster:up)"; exit 1; fi

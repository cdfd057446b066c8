# Shared by up.sh, down.sh and status.sh: where a named test cluster keeps its state, and how its
# processes are recognised. Sourced, never run. See docs/local-cluster.md.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"

CLUSTER_NAME="${DEMO_CLUSTER_NAME:-local}"
if ! [[ "$CLUSTER_NAME" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]]; then
  echo "error: DEMO_CLUSTER_NAME \"$CLUSTER_NAME\" must be lowercase letters, digits and '-'" >&2
  exit 2
fi
STATE_ROOT="${DEMO_TESTBED_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/demo-testbed}"
STATE="$STATE_ROOT/$CLUSTER_NAME"
KUBECONFIG_PATH="$STATE/kubeconfig"
# Stop order; start order is the reverse.
COMPONENTS=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

log() { printf '[%s %s] %s\n' "$CLUSTER_NAME" "$(date +%H:%M:%S)" "$*" >&2; }

# The pid file holds "<pid> <absolute binary path>", so a recycled pid is never mistaken for ours.
pid_of() {
  local f="$STATE/run/$1.pid" pid exe actual
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || return 1
  [ -n "$pid" ] && [ -n "$exe" ] || return 1
  actual="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [ "${actual% (deleted)}" = "$exe" ] || return 1
  echo "$pid"
}

load_ports() {
  [ -f "$STATE/ports.env" ] || return 1
  # shellcheck source=/dev/null
  . "$STATE/ports.env"
}

# curl with the cluster's admin client certificate.
admin_curl() {
  curl -fsS --max-time 5 --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" "$@"
}

component_healthy() {
  local c="$1"
  pid_of "$c" >/dev/null || return 1
  case "$c" in
    etcd) curl -fsS --max-time 5 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' ;;
    kube-apiserver) admin_curl "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1 ;;
    kube-controller-manager) curl -kfsS --max-time 5 "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1 ;;
    kube-scheduler) curl -kfsS --max-time 5 "https://127.0.0.1:$SCHEDULER_PORT/healthz" >/dev/null 2>&1 ;;
    kwok) curl -kfsS --max-time 5 "https://127.0.0.1:$KWOK_PORT/healthz" >/dev/null 2>&1 \
      || curl -fsS --max-time 5 "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null 2>&1 ;;
  esac
}

cluster_healthy() {
  load_ports || return 1
  local c
  for c in "${COMPONENTS[@]}"; do component_healthy "$c" || return 1; done
}

# Installs Debian packages that are missing (CI machines start bare; we run as root there).
ensure_commands() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  log "installing ${missing[*]} with apt-get"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

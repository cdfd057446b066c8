#!/usr/bin/env bash
# Starts (or finds running) the local test control plane named $DEMO_CLUSTER_NAME (default "local"):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with fake nodes. Builds the
# binaries first if needed. Progress goes to stderr; the LAST line of stdout is the kubeconfig path.
# Idempotent: a healthy cluster is left alone, except that it gets more fake nodes when DEMO_CLUSTER_NODES asks for more. Never touches ~/.kube/config. See docs/local-cluster.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

# How many fake nodes (110 pods each); on a running cluster, more are added when more are asked.
NODE_COUNT="${DEMO_CLUSTER_NODES:-3}"
[[ "$NODE_COUNT" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "error: DEMO_CLUSTER_NODES must be a number from 1 to 999, got \"$NODE_COUNT\"" >&2; exit 2; }
# kube-controller-manager's client rate limit (--kube-api-qps, burst twice that); empty: its default (20, burst 30),
# as on most clusters. It paces how fast Deployments get their pods; only a cluster start applies it.
CONTROLLER_QPS="${DEMO_CLUSTER_CONTROLLER_QPS:-}"
[[ -z "$CONTROLLER_QPS" || "$CONTROLLER_QPS" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "error: DEMO_CLUSTER_CONTROLLER_QPS must be a number from 1 to 99999, got \"$CONTROLLER_QPS\"" >&2; exit 2; }
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
POD_CIDR=10.244.0.0/16
NODE_IP=10.240.0.1
START_TIMEOUT="${DEMO_CLUSTER_START_TIMEOUT:-180}"

mkdir -p "$STATE_ROOT"
exec 9>"$STATE_ROOT/$CLUSTER_NAME.lock"
flock 9

wait_for() {
  local what="$1" component="$2" deadline=$(( $(date +%s) + START_TIMEOUT ))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ -n "$component" ] && ! pid_of "$component" >/dev/null; then
      sleep 1
      pid_of "$component" >/dev/null || {
        echo "error: $component exited while waiting for $what; last lines of $STATE/logs/$component.log:" >&2
        tail -n 30 "$STATE/logs/$component.log" >&2
        exit 1
      }
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "error: timed out after ${START_TIMEOUT}s waiting for $what (logs in $STATE/logs)" >&2
      exit 1
    fi
    sleep 0.5
  done
}

kubectl_() { "$BIN/kubectl" --kubeconfig="$KUBECONFIG_PATH" "$@"; }

apply_nodes() {
  local i
  for i in $(seq 0 $(( NODE_COUNT - 1 ))); do
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
spec: {}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
---
EOF
  done | kubectl_ apply -f - >&2
}

kwok_nodes() { kubectl_ get nodes -l type=kwok -o name | wc -l; }

# A running cluster with fewer fake nodes than asked gets the missing ones (never fewer: nodes hold pods).
ensure_nodes() {
  local have
  have="$(kwok_nodes)"
  [ "$have" -ge "$NODE_COUNT" ] && return 0
  log "registering fake nodes: $have -> $NODE_COUNT (DEMO_CLUSTER_NODES)"
  wait_for "node registration" "" apply_nodes
  wait_for "nodes Ready" kwok kubectl_ wait --for=condition=Ready node -l type=kwok --timeout=5s
}

if cluster_healthy; then
  BIN="$(cat "$STATE/bin-dir")"
  running_qps="$(cat "$STATE/controller-qps" 2>/dev/null || true)"
  if [ "$running_qps" != "$CONTROLLER_QPS" ]; then
    echo "error: cluster \"$CLUSTER_NAME\" runs kube-controller-manager with DEMO_CLUSTER_CONTROLLER_QPS=\"$running_qps\", not \"$CONTROLLER_QPS\"; run \`DEMO_CLUSTER_NAME=$CLUSTER_NAME npm run cluster:down\` first" >&2
    exit 2
  fi
  ensure_nodes
  echo "$KUBECONFIG_PATH"
  exit 0
fi

ensure_commands openssl:openssl curl:curl ss:iproute2 ip:iproute2
BIN="$(bash "$here/build.sh" | tail -n 1)"
[ -x "$BIN/kube-apiserver" ] || { echo "error: build.sh did not produce binaries (got \"$BIN\")" >&2; exit 1; }
started_at=$(date +%s)

if [ -d "$STATE/run" ]; then
  log "cluster is partly up or stale; stopping what is left before starting again"
  DEMO_TESTBED_LOCKED=1 bash "$here/down.sh" >&2
fi
mkdir -p "$STATE/pki" "$STATE/logs" "$STATE/run"

port_listening() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# Taken: something listens on it now, or another test cluster (maybe stopped) has recorded it.
port_taken() {
  local f
  port_listening "$1" && return 0
  for f in "$STATE_ROOT"/*/ports.env; do
    [ "$f" != "$STATE/ports.env" ] && grep -qsx "[A-Z_]*=$1" "$f" && return 0
  done
  return 1
}

# Our processes are all stopped here, so a recorded port that is listening belongs to someone else.
recorded_ports_free() {
  local p
  for p in $(cut -d= -f2 "$STATE/ports.env"); do port_taken "$p" && return 1; done
  return 0
}

pick_ports() {
  local var p chosen=" "
  : > "$STATE/ports.env.tmp"
  for var in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT; do
    while :; do
      p=$(( 20000 + RANDOM % 12000 ))
      [[ "$chosen" == *" $p "* ]] && continue
      port_taken "$p" || break
    done
    chosen+="$p "
    echo "$var=$p" >> "$STATE/ports.env.tmp"
  done
  mv "$STATE/ports.env.tmp" "$STATE/ports.env"
}

advertise_address() {
  # kube-apiserver refuses to start on hosts without a default route unless told what to advertise; it must
  # not be loopback. Clients use 127.0.0.1, so any non-loopback address will do.
  local ip
  ip="$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -n 1)"
  echo "${ip:-192.0.2.10}"
}

# issue_cert <name> <subject> <extensions>: a key pair signed by the cluster CA.
issue_cert() {
  local name="$1" subj="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
    -out "$name.crt" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

make_pki() {
  [ -f "$STATE/pki/.complete" ] && return 0
  log "creating PKI in $STATE/pki"
  (
    cd "$STATE/pki"
    rm -f ./*
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 -keyout ca.key -out ca.crt \
      -subj "/CN=demo-testbed-$CLUSTER_NAME-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    local client="keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    issue_cert apiserver "/CN=kube-apiserver" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,IP:$(advertise_address),DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    issue_cert admin "/O=system:masters/CN=demo-testbed-admin" "$client"
    issue_cert kube-controller-manager "/CN=system:kube-controller-manager" "$client"
    issue_cert kube-scheduler "/CN=system:kube-scheduler" "$client"
    # kwok writes node and pod status, leases and deletes pods on every node: it plays all kubelets at once.
    issue_cert kwok "/O=system:masters/CN=kwok-controller" "$client"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
    touch .complete
  )
}

# write_kubeconfig <file> <user>: self-contained (certificates embedded), so it can be copied anywhere.
write_kubeconfig() {
  local file="$1" user="$2" b64="base64 -w0"
  cat > "$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: demo-testbed-$CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $($b64 < "$STATE/pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $($b64 < "$STATE/pki/$user.crt")
    client-key-data: $($b64 < "$STATE/pki/$user.key")
contexts:
- name: demo-testbed-$CLUSTER_NAME
  context:
    cluster: demo-testbed-$CLUSTER_NAME
    user: $user
current-context: demo-testbed-$CLUSTER_NAME
EOF
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

# kwok's default stages, except that pod-ready skips pods labelled demo.test/never-ready=true, which
# our own pod-never-ready stage takes instead.
write_kwok_config() {
  local s="$BIN/stages" out="$STATE/kwok.yaml" f
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      cat "$s/$f"; echo '---'
    done
    awk '{ print } /^    matchExpressions:$/ && !done {
      print "    - key: '\''.metadata.labels[\"demo.test/never-ready\"]'\''"
      print "      operator: '\''NotIn'\''"
      print "      values:"
      print "      - '\''true'\''"
      done = 1 }' "$s/pod/fast/pod-ready.yaml"
    echo '---'
    cat "$here/stages/pod-never-ready.yaml"
  } > "$out.tmp"
  grep -q 'demo.test/never-ready"\]'"'"'$' "$out.tmp" || { echo "error: could not patch kwok's pod-ready stage" >&2; exit 1; }
  mv "$out.tmp" "$out"
}

# start <component> <args...>: runs $BIN/<component> detached (own session, so Ctrl-C in the caller's
# terminal does not reach it) and records "<pid> <binary>".
start() {
  local c="$1"; shift
  [ -f "$STATE/logs/$c.log" ] && mv -f "$STATE/logs/$c.log" "$STATE/logs/$c.log.1"
  # 9>&-: the daemons must not inherit (and so hold forever) the lock of this script.
  setsid "$BIN/$c" "$@" </dev/null >"$STATE/logs/$c.log" 2>&1 9>&- &
  echo "$! $(readlink -f "$BIN/$c")" > "$STATE/run/$c.pid"
}




default_sa_exists() { kubectl_ -n default get serviceaccount default; }

# kwok starts with a new random lease holder identity, so after a restart it would only take over the
# node leases left in etcd once they expire (40s) and leave pods Pending until then. Removing them
# first lets it take the nodes at once; its fresh leases then prove it manages every node.
drop_node_leases() { kubectl_ -n kube-node-lease delete lease --all --ignore-not-found >/dev/null; }
node_leases_held() { [ "$(kubectl_ -n kube-node-lease get lease -o name | wc -l)" -ge "$NODE_COUNT" ]; }

if [ ! -f "$STATE/ports.env" ] || ! recorded_ports_free; then pick_ports; fi
load_ports
make_pki
write_kubeconfig "$KUBECONFIG_PATH" admin
write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" kube-controller-manager
write_kubeconfig "$STATE/kube-scheduler.kubeconfig" kube-scheduler
write_kubeconfig "$STATE/kwok.kubeconfig" kwok
write_kwok_config
echo "$BIN" > "$STATE/bin-dir"

log "starting etcd on 127.0.0.1:$ETCD_PORT"
start etcd --name=demo-testbed --data-dir="$STATE/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="demo-testbed=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --auto-compaction-retention=1 --quota-backend-bytes=2147483648 --log-level=warn
wait_for etcd etcd component_healthy etcd

log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
start kube-apiserver --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address="$(advertise_address)" \
  --cert-dir="$STATE/pki" --tls-cert-file="$STATE/pki/apiserver.crt" --tls-private-key-file="$STATE/pki/apiserver.key" \
  --client-ca-file="$STATE/pki/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$STATE/pki/sa.pub" --service-account-signing-key-file="$STATE/pki/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,NodeRestriction \
  --allow-privileged=true --profiling=false
wait_for "kube-apiserver /readyz" kube-apiserver component_healthy kube-apiserver

wait_for "stale node leases to be removed" kube-apiserver drop_node_leases

log "starting kube-controller-manager, kube-scheduler and kwok"
start kube-controller-manager --kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
  --root-ca-file="$STATE/pki/ca.crt" --service-account-private-key-file="$STATE/pki/sa.key" \
  --use-service-account-credentials=true \
  --cluster-signing-cert-file="$STATE/pki/ca.crt" --cluster-signing-key-file="$STATE/pki/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false \
  ${CONTROLLER_QPS:+--kube-api-qps="$CONTROLLER_QPS" --kube-api-burst="$((CONTROLLER_QPS * 2))"}
printf '%s' "$CONTROLLER_QPS" > "$STATE/controller-qps"
start kube-scheduler --kubeconfig="$STATE/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false
start kwok --kubeconfig="$STATE/kwok.kubeconfig" --config="$STATE/kwok.yaml" --manage-all-nodes=true \
  --cidr="$POD_CIDR" --node-ip="$NODE_IP" --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$KWOK_PORT"
wait_for kube-controller-manager kube-controller-manager component_healthy kube-controller-manager
wait_for kube-scheduler kube-scheduler component_healthy kube-scheduler
wait_for kwok kwok component_healthy kwok

log "registering $NODE_COUNT fake nodes (32 CPU, 256Gi each)"
wait_for "node registration" "" apply_nodes
wait_for "the default ServiceAccount" kube-controller-manager default_sa_exists
wait_for "kwok to take the node leases" kwok node_leases_held
wait_for "nodes Ready" kwok kubectl_ wait --for=condition=Ready node -l type=kwok --timeout=5s

log "cluster up in $(( $(date +%s) - started_at ))s; export KUBECONFIG=$KUBECONFIG_PATH"
echo "$KUBECONFIG_PATH"

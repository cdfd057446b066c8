#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy only, into a cache outside the
# repository keyed by every version that affects them. Prints the bin directory. Idempotent: a warm
# cache returns at once. See docs/local-cluster.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"

bin="$TESTBED_BIN"
if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kube-scheduler" ] \
  && [ -x "$bin/etcd" ] && [ -x "$bin/kwok" ] && [ -x "$bin/kubectl" ] && [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "error: Go ${GO_MIN}+ is needed to build the local control plane (see README)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
work="$TESTBED_CACHE/src"
stage="$bin.partial"
rm -rf "$stage"; mkdir -p "$work" "$stage"
log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

build_k8s() {
  local dir="$work/k8s-$K8S_VERSION" stg="v0.${K8S_VERSION#v1.}" minor
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.sum" ]; then
    log "resolving k8s.io/kubernetes $K8S_VERSION and its staging modules"
    (
      cd "$dir"
      local up
      up="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
      printf 'module local/k8s-control-plane-bins\n\ngo %s\n' "$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$up")" > go.mod
      grep -E '^godebug ' "$up" >> go.mod || true
      # Upstream requires every staging module at v0.0.0 and maps it into ./staging; as a dependency those
      # replaces do not apply, so pin each one to its published tag (kubernetes/kubernetes#79384).
      sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$up" | sort -u |
        while read -r m; do go mod edit -replace="${m}=${m}@${stg}"; done
      go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@${K8S_VERSION}" \
        "k8s.io/kubernetes/cmd/kube-controller-manager@${K8S_VERSION}" \
        "k8s.io/kubernetes/cmd/kube-scheduler@${K8S_VERSION}" \
        "k8s.io/kubernetes/cmd/kubectl@${K8S_VERSION}"
      go mod tidy
    )
  fi
  local ldf="-s -w -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}
    -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitTreeState=clean
    -X k8s.io/component-base/version.gitCommit=0000000000000000000000000000000000000000
    -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z
    -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor}
    -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION"
  # One go build for all four so shared packages compile once.
  (cd "$dir" && go build -trimpath -tags notest -ldflags "$(echo $ldf)" -o "$stage/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  # Own module: MVS would otherwise merge grpc/otel versions with Kubernetes' and may break the build.
  if [ ! -f "$dir/go.sum" ]; then
    log "resolving etcd $ETCD_VERSION"
    (cd "$dir" && printf 'module local/etcd-bin\n\ngo 1.26.0\n' > go.mod && go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}")
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$stage/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  log "building kwok $KWOK_VERSION"
  GOBIN="$stage" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
  # kwok's default stages (pod-ready, pod-delete, node-initialize ...) ship in its module source.
  local src
  src="$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  mkdir -p "$stage/stages"
  cp -r "$src/kustomize/stage/." "$stage/stages/"
  chmod -R u+w "$stage/stages"
}

start=$(date +%s)
build_etcd
build_kwok
build_k8s
"$stage/kube-apiserver" --version >&2
# sed, not head: head exits early, etcd gets SIGPIPE and pipefail would abort the build.
"$stage/etcd" --version | sed -n 1p >&2
echo "built in $(( $(date +%s) - start ))s on $(nproc) cores" > "$stage/.complete"
rm -rf "$bin"; mv "$stage" "$bin"
log "$(cat "$bin/.complete")"
echo "$bin"

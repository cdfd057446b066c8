# Every version that affects the built binaries; the cache key is made of all of them.
# Kubernetes 1.36 is the newest minor whose patch releases the module proxy serves here (see docs/local-cluster.md).
K8S_VERSION="${DEMO_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${DEMO_ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${DEMO_KWOK_VERSION:-v0.8.0}"
GO_MIN="1.26"
GO_VERSION="$(go env GOVERSION 2>/dev/null || echo none)"
TESTBED_CACHE="${DEMO_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/demo-testbed}"
TESTBED_BIN="$TESTBED_CACHE/bin/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${GO_VERSION}"

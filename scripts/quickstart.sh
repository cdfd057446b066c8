#!/usr/bin/env bash
# The quick start: on a fresh clone, installs and builds, starts the local Kubernetes control plane
# (built from source once, cached in ~/.cache/demo-testbed; see docs/local-cluster.md), and creates a
# demo on it with state in the embedded store. Extra arguments go to `demo create` (e.g. --type startup).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "[quickstart] starting the local control plane (the first time builds it from source: ~20 min)" >&2
kubeconfig="$(npm run -s cluster:up | tail -n 1)"
# The embedded store: no shared Postgres for the quick start, whatever the shell has set.
unset DEMO_DATABASE_URL DATABASE_URL
export PATH="$PWD/node_modules/.bin:$PATH"
node bin/run.js create --kubeconfig "$kubeconfig" "$@"
cat >&2 <<MSG

The demo runs on the local control plane (fake kwok nodes: pods are scheduled and Ready, but no container
really runs, so the URLs do not answer here). Try:
  export KUBECONFIG=$kubeconfig
  node bin/run.js list
  node bin/run.js destroy <id>
  npm run cluster:down
MSG

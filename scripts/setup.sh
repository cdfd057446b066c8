#!/usr/bin/env bash
# Installs the project's dependencies (Node 24 comes with them, from the npm registry) and builds the CLI.
# Idempotent: `npm ci` runs only when package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v npm >/dev/null || { echo "error: npm is missing; install Node.js (any version >= 18 to bootstrap; the project brings Node 24)" >&2; exit 1; }
stamp=node_modules/.demo-install-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] npm ci" >&2
  npm ci --no-audit --no-fund >&2
  cp package-lock.json "$stamp"
fi
echo "[setup] npm run build" >&2
npm run -s build >&2

#!/usr/bin/env bash
# The whole test suite on a fresh clone: install and build, then lint, typecheck, unit, integration and
# end-to-end tests (PostgreSQL from Debian's packages and the local control plane are started and stopped
# by test/run-integration.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
npm test

#!/usr/bin/env bash
# The whole test suite, as CI runs it: toolchain, real services (Docker engine, registry, Redis,
# base image, Go for the template oracle), then typecheck, lint and every test.
# Tests that need a service fail (never skip) when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash scripts/bootstrap.sh
bash scripts/services.sh start

echo "== typecheck"; pnpm -s typecheck
echo "== lint"; pnpm -s lint
echo "== tests"
mkdir -p .state
status=0
pnpm -s exec vitest run --reporter=default --reporter=json --outputFile.json=.state/vitest-report.json || status=$?
node scripts/test-summary.mjs .state/vitest-report.json || status=1
echo "test.sh: finished in $(( $(date +%s) - start ))s"
exit "$status"

#!/usr/bin/env bash
# Makes the JavaScript toolchain ready on a fresh Debian machine that has Node 20 and npm:
# pnpm 10.34.x (pnpm 11 refuses Node 20; corepack's bundled copy fails signature checks here)
# and the workspace's dependencies from the lockfile. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm@$PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
fi
pnpm install --frozen-lockfile --reporter=append-only | grep -v '^Progress' || true
test -d node_modules/.pnpm || { echo "bootstrap: pnpm install failed" >&2; exit 1; }

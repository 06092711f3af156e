#!/usr/bin/env bash
# The main job: takes the example projects end to end through what Strata can do today.
# Until the build issue lands this means: make each example a git repository and validate its
# werf.yaml with the CLI (the resolved config of one example is printed too).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
work="$(mktemp -d "${TMPDIR:-/tmp}/strata-main.XXXXXX")"
trap 'rm -rf "$work"' EXIT

status=0
for example in dockerfile-app stapel-app multi-image; do
  echo "== $example"
  bash examples/make-repo.sh "$example" "$work/$example" >/dev/null
  pnpm -s strata config validate --dir "$work/$example" || status=1
done
echo "== resolved config of stapel-app (excerpt)"
pnpm -s strata config show --json --dir "$work/stapel-app" | head -40
exit "$status"

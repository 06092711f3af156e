#!/usr/bin/env bash
# Turns an example into a git repository with a short, deterministic history, so that builds read
# files from commits (giterminism) exactly as they would in a real project.
#   bash examples/make-repo.sh <example-name> <destination-dir>
# The destination must not exist. The first commit holds everything but the last change; the
# second commit makes a small edit, so examples have history for ancestry-based cache reuse.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name="${1:?usage: make-repo.sh <example-name> <destination-dir>}"
dest="${2:?usage: make-repo.sh <example-name> <destination-dir>}"
src="$here/$name"
[ -f "$src/werf.yaml" ] || { echo "make-repo: no example named '$name' (no $src/werf.yaml)" >&2; exit 2; }
[ ! -e "$dest" ] || { echo "make-repo: $dest already exists" >&2; exit 2; }

mkdir -p "$dest"
cp -a "$src/." "$dest/"
cd "$dest"
export GIT_AUTHOR_NAME="Strata Examples" GIT_AUTHOR_EMAIL="examples@strata.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
git init -q -b main .
git config core.autocrlf false
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
git add -A
git commit -q -m "Initial import of the $name example"
export GIT_AUTHOR_DATE="2026-01-02T00:00:00Z" GIT_COMMITTER_DATE="2026-01-02T00:00:00Z"
printf '\n# history: second commit\n' >> werf.yaml
git commit -q -am "Touch werf.yaml to give the example some history"
git rev-parse HEAD

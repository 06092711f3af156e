#!/usr/bin/env bash
# The main job: takes an example project end to end through Strata on the real services.
#   1. bootstrap, start the services (Docker engine, registry, Redis) on loopback;
#   2. make examples/multi-image a git repository in a temp dir (every example's werf.yaml is
#      validated too);
#   3. `strata build` it: the plan, the progress and the summary are printed, the report is written;
#   4. build again with nothing changed: every stage is reused;
#   5. run the final `bundle` image once, without network.
# Works on a fresh clone. Images made here are removed at the end (the project name is unique).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/services.sh start

work="$(mktemp -d "${TMPDIR:-/tmp}/strata-main.XXXXXX")"
project="multi-image-main-$(date +%s)-$$"
cleanup() {
  # Children before parents: a few rounds of removals of this run's images.
  for _ in 1 2 3 4 5 6 7 8; do
    ids="$(docker images -q --filter "label=werf=$project" 2>/dev/null | sort -u)"
    [ -n "$ids" ] || break
    # shellcheck disable=SC2086
    docker rmi --force $ids >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

for example in dockerfile-app stapel-app multi-image; do
  echo "== validate $example"
  bash examples/make-repo.sh "$example" "$work/validate-$example" >/dev/null
  pnpm -s strata config validate --dir "$work/validate-$example"
done

dir="$work/multi-image"
bash examples/make-repo.sh multi-image "$dir" >/dev/null
# A project name of this run's own, so the build really builds (no stages of earlier runs).
sed -i "s/^project: .*/project: $project/" "$dir/werf.yaml"
git -C "$dir" -c user.name=strata-main -c user.email=main@strata.invalid commit -q -am "main job: unique project name"

echo "== strata plan"
pnpm -s strata plan --dir "$dir"

report="$work/report.json"
echo "== strata build (first: builds every stage)"
pnpm -s strata build --dir "$dir" --report-path "$report"

echo "== build report: $report (excerpt)"
node -e '
  const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const [name, image] of Object.entries(report.Images)) {
    const statuses = image.Stages.map((stage) => `${stage.Name}=${stage.Status}`).join(" ");
    console.log(`${name}: Final=${image.Final} Rebuilt=${image.Rebuilt} ${image.DockerImageName}\n  ${statuses}`);
  }
' "$report"

echo "== strata build (second: nothing changed, every stage reused)"
pnpm -s strata build --dir "$dir" --report-path "$report"
node -e '
  const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const stages = Object.values(report.Images).flatMap((image) => image.Stages);
  const notReused = stages.filter((stage) => stage.Status !== "reused");
  if (notReused.length > 0) { console.error(`expected every stage reused, got: ${JSON.stringify(notReused.map((s) => s.Name + "=" + s.Status))}`); process.exit(1); }
  console.log(`all ${stages.length} stages reused`);
' "$report"

bundle="$(node -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).Images.bundle.DockerImageName)' "$report")"
echo "== docker run --rm --network none $bundle"
docker run --rm --network none --entrypoint /bin/sh "$bundle" -c 'cat /bundle/IMAGES; cat /bundle/api/VERSION; ls /bundle/worker'

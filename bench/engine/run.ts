/**
 * `pnpm bench:engine`: a no-op rebuild (every stage already stored) of a generated 200-image config over
 * a repository of 20,000 files, with the in-memory store and lock and the fake executor, next to the
 * floor of one `git ls-tree -r` of the repository measured in the same run.
 * Target: no-op rebuild ≤ 3 × floor + 1 ms per image. The last printed line is the JSON summary.
 * `BENCH_CPU_PROFILE=file.cpuprofile` records a CPU profile of the no-op rebuilds only.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { parseConfig, type ResolvedConfig } from '../../packages/config/src/index.js';
import { NativeGitRepository } from '../../packages/git/src/index.js';
import { MemoryStageLock, MemoryStageStore, createEngine } from '../../packages/core/src/index.js';
import { FakeExecutor } from '../../packages/core/src/testing.js';
import { generateRepo } from '../git/generate.js';
import { printBenchSummary, type BenchResult } from '../support/summary.js';

const IMAGES = 200;
const BASES = 4;
const ARTIFACTS = 6;
/** Runs of each measurement; the fastest counts (the machine is shared: slower runs measure the neighbours). */
const RUNS = 9;

/** 4 base images, 6 artifacts and 190 applications with git mappings, stageDependencies and imports. */
function configText(dirs: number): string {
  const docs = ['project: bench\nconfigVersion: 1\n'];
  for (let b = 0; b < BASES; b++) {
    docs.push(`image: base-${b}\nfrom: alpine:3.18\nshell:\n  beforeInstall:\n  - apk add curl-${b}\n`);
  }
  for (let a = 0; a < ARTIFACTS; a++) {
    docs.push(
      `artifact: tool-${a}\nfrom: alpine:3.18\ngit:\n- add: /tools\n  to: /src\n  stageDependencies:\n    install: ['*.sh']\n` +
        `shell:\n  install:\n  - make tool-${a}\n`,
    );
  }
  for (let i = 0; i < IMAGES - BASES - ARTIFACTS; i++) {
    const dir = `/src/d${String(i % dirs).padStart(3, '0')}`;
    const importBlock =
      i % 3 === 0
        ? `import:\n- artifact: tool-${i % ARTIFACTS}\n  add: /out/tool\n  to: /usr/bin/tool\n  before: setup\n`
        : '';
    docs.push(
      `image: app-${i}\nfromImage: base-${i % BASES}\ngit:\n- add: ${dir}\n  to: /app\n  stageDependencies:\n` +
        `    install: ['s0*/**']\n    setup: ['**/f0*.txt']\n` +
        importBlock +
        `shell:\n  install:\n  - echo install ${i}\n  setup:\n  - echo setup ${i}\n` +
        `docker:\n  CMD: ["/app/run", "${i}"]\n`,
    );
  }
  return docs.join('---\n');
}

function parse(text: string): ResolvedConfig {
  const result = parseConfig(text, { path: 'werf.yaml' });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const dirs = 40;
const t0 = performance.now();
const repo = await generateRepo({ dirs, subdirs: 10, filesPerDir: 50, commits: 40 });
console.log(`repository: ${repo.dir} (${repo.files} files, ${repo.commits} commits, ready in ${Math.round(performance.now() - t0)} ms)`);
if (repo.files < 20_000) throw new Error(`the repository has ${repo.files} files, fewer than 20,000`);

const config = parse(configText(dirs));
if (config.images.length !== IMAGES) throw new Error(`expected ${IMAGES} images, got ${config.images.length}`);

const primary = new MemoryStageStore({ name: 'primary' });
const executor = new FakeExecutor();
const lock = new MemoryStageLock();

async function build(): Promise<{ ms: number; built: number; stages: number }> {
  // A fresh repository handle and engine per run: nothing cached across runs but the store's contents.
  const repository = await NativeGitRepository.open(repo.dir);
  try {
    const engine = createEngine({ config, repository, stores: { primary }, lock, executor });
    const calls = executor.calls.length;
    const start = performance.now();
    const result = await engine.build();
    const ms = performance.now() - start;
    const stages = result.images.reduce((n, image) => n + image.stages.length, 0);
    return { ms, built: executor.calls.length - calls, stages };
  } finally {
    await repository.close();
  }
}

const first = await build();
console.log(`first build: ${first.ms.toFixed(0)} ms, ${first.built} stages built of ${first.stages}`);

const lsTree = (): number => {
  const start = performance.now();
  const r = spawnSync('git', ['-C', repo.dir, 'ls-tree', '-r', 'HEAD'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`git ls-tree failed: ${r.stderr}`);
  return ms;
};

const profilePath = process.env.BENCH_CPU_PROFILE;
const session = profilePath ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const noop: number[] = [];
const floor: number[] = [];
for (let run = 0; run < RUNS; run++) {
  floor.push(lsTree());
  const again = await build();
  if (again.built !== 0) throw new Error(`the no-op rebuild built ${again.built} stages`);
  noop.push(again.ms);
}
if (session && profilePath) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profilePath, JSON.stringify(profile));
  session.disconnect();
  console.log(`CPU profile of the no-op rebuilds: ${profilePath}`);
}
const noopMs = Math.min(...noop);
const floorMs = Math.min(...floor);
const targetMs = 3 * floorMs + IMAGES;
console.log(
  `no-op rebuild of ${IMAGES} images (${first.stages} stages): ${noopMs.toFixed(1)} ms (fastest of ${RUNS}; median ${median(noop).toFixed(1)}); ` +
    `git ls-tree -r HEAD: ${floorMs.toFixed(1)} ms (fastest; median ${median(floor).toFixed(1)}); ` +
    `target ≤ 3 × floor + 1 ms × ${IMAGES} images = ${targetMs.toFixed(1)} ms`,
);
const round = (v: number): number => Math.round(v * 10) / 10;
// `ratio`/`target` compare against the budget (3 × floor + 1 ms per image), so `ratio ≤ target` is the pass rule
// as in the other benches; the bare ratio to the ls-tree floor is reported alongside, for information.
const ratio = (value: number, baseline: number): number => Number((value / baseline).toPrecision(3));
const results: BenchResult[] = [
  {
    name: 'noopRebuild.200images',
    value: round(noopMs),
    unit: 'ms',
    baseline: round(targetMs),
    ratio: ratio(noopMs, targetMs),
    target: 1,
    pass: noopMs <= targetMs,
  },
  { name: 'noopRebuild.vsGitLsTree', value: round(noopMs), unit: 'ms', baseline: round(floorMs), ratio: ratio(noopMs, floorMs), target: null, pass: null },
  { name: 'gitLsTree.floor', value: round(floorMs), unit: 'ms', baseline: null, ratio: null, target: null, pass: null },
];
printBenchSummary('engine', results);

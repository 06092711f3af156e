/**
 * `pnpm bench:docker`: Strata on the Docker engine against `docker build` of the same 20 generated
 * Dockerfile images, measured in the same run (needs `bash scripts/services.sh start`).
 *
 * - No-op rebuild: Strata with every stage stored vs BuildKit's fully cached
 *   `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=none` of the 20 images, one after the other (one
 *   warming pass, then timed passes). Strata is timed four ways: a fresh `node` process running
 *   noop.ts bundled by esbuild into one ES module (what a compiled Strata pays: process start, module
 *   loading, config, git, store lookups; the fair counterpart of 20 `docker build` processes, and the one
 *   the target applies to; dockerode's ssh and BuildKit modules are lazy forwarders in it, loaded on
 *   first use, see bench/docker/bundle.ts), the same bundle with everything loaded at start-up
 *   (information), a fresh process running the TypeScript sources through tsx (as the root scripts do;
 *   tsx compiles at start-up), and in-process. Target: ≥ 10× faster (ratio ≤ 0.1).
 * - First build: Strata with an empty store (5 images in parallel, its default; in-process) vs 20
 *   sequential cold `DOCKER_BUILDKIT=0 /usr/bin/docker build --network=none`, the classic builder
 *   Strata's executor also uses. Each side gets its own freshly salted project, so no builder cache can
 *   answer; the order alternates between runs. Target: Strata ≤ 1.3 × docker.
 *
 * `ratio` is Strata / docker everywhere; the fastest run of each side counts (the machine is shared),
 * medians are printed alongside. Knobs: BENCH_COLD_RUNS (default 3), BENCH_WARM_RUNS (default 5).
 * Everything the bench creates (images by label, the temp dir) is removed at the end, also on failure
 * or Ctrl-C; BuildKit's build cache is left (pruning it would drop other users' cache too).
 * `bench/docker/trace.ts` times every Docker and git call of a no-op rebuild (a diagnostic).
 * The last printed line is the JSON summary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bundleNoop, deferredModules } from './bundle.js';
import { BASE_IMAGE, generateProject, type DockerBenchProject } from './generate.js';
import { strataBuild, type StrataBuildResult } from './strata.js';
import { printBenchSummary, type BenchResult } from '../support/summary.js';

type Result = BenchResult;

const IMAGES = 20;
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 5);
/** Debian's docker.io client (20.10): BuildKit without buildx. */
const DOCKER = '/usr/bin/docker';
const here = path.dirname(fileURLToPath(import.meta.url));
const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
/** Label put on every image the docker side builds, so cleanup finds them. */
const BENCH_LABEL = `strata-bench-docker=${runId}`;
const workDir = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-docker-'));
const projects: string[] = [];

const round = (v: number): number => Math.round(v * 10) / 10;
const ratioOf = (value: number, baseline: number): number => Number((value / baseline).toPrecision(3));
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
const best = (values: readonly number[]): number => Math.min(...values);
const summary = (values: readonly number[]): string => `best ${best(values).toFixed(0)} ms, median ${median(values).toFixed(0)} ms of ${values.length}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function mustRun(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(command, args, env);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
  return r.stdout;
}

type Builder = 'buildkit' | 'classic';

const builderEnv = (builder: Builder): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_BUILDKIT: builder === 'buildkit' ? '1' : '0' });

/** `docker build` of every image of the project, one after the other; returns the wall time. */
async function dockerBuildAll(project: DockerBenchProject, builder: Builder, repo: string): Promise<number> {
  const env = builderEnv(builder);
  const start = performance.now();
  for (const image of project.images) {
    await mustRun(DOCKER, ['build', '-q', '--network=none', '--label', BENCH_LABEL, '-t', `${repo}/${image}:latest`, path.join(project.dir, image)], env);
  }
  return performance.now() - start;
}

type FreshResult = StrataBuildResult & { startupMs: number };

/** Strata's build in a fresh `node` process; wall time seen from here. */
async function strataFreshProcess(args: readonly string[], dir: string): Promise<{ wallMs: number; result: FreshResult }> {
  const start = performance.now();
  const out = await mustRun(process.execPath, [...args, dir]);
  const wallMs = performance.now() - start;
  const last = out.trim().split('\n').at(-1) ?? '';
  return { wallMs, result: JSON.parse(last) as FreshResult };
}

function newProject(kind: string): DockerBenchProject {
  const project = `strata-bench-docker-${runId}-${kind}`;
  projects.push(project);
  return generateProject(path.join(workDir, kind), { project, images: IMAGES, salt: `${runId}-${kind}` });
}

/** Removes every image this run made (by label) and the temp dir. Synchronous, so it also runs on signals. */
function cleanup(): void {
  const filters = [`label=${BENCH_LABEL}`, ...projects.map((p) => `label=werf=${p}`)];
  const ids = new Set<string>();
  for (const filter of filters) {
    const r = spawnSync(DOCKER, ['images', '-q', '--no-trunc', '--filter', filter], { encoding: 'utf8' });
    for (const id of r.stdout.split('\n').filter(Boolean)) ids.add(id);
  }
  if (ids.size > 0) {
    const r = spawnSync(DOCKER, ['rmi', '-f', ...ids], { encoding: 'utf8' });
    if (r.status !== 0) console.error(`cleanup: docker rmi: ${r.stderr.trim()}`);
  }
  rmSync(workDir, { recursive: true, force: true });
  console.log(`cleanup: removed ${ids.size} images and ${workDir}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** Whether BuildKit builds with `--network=none` on this daemon through Debian's 20.10 client. */
async function buildKitWorks(): Promise<{ ok: boolean; why: string }> {
  if (!existsSync(DOCKER)) return { ok: false, why: `${DOCKER} is missing (apt-get install docker.io)` };
  const dir = path.join(workDir, 'buildkit-probe');
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN echo ${runId} > /probe\n`);
  const r = await run(DOCKER, ['build', '-q', '--network=none', '--label', BENCH_LABEL, '-t', `strata-bench-docker-${runId}-probe:latest`, dir], builderEnv('buildkit'));
  return r.code === 0 ? { ok: true, why: '' } : { ok: false, why: r.stderr.trim().split('\n').slice(-5).join(' / ') };
}

async function main(): Promise<Result[]> {
  const info = spawnSync(DOCKER, ['version', '--format', '{{.Client.Version}} / {{.Server.Version}}'], { encoding: 'utf8' });
  if (info.status !== 0) throw new Error(`bench:docker needs the Docker engine (bash scripts/services.sh start): ${info.stderr.trim()}`);
  console.log(`docker client/server: ${info.stdout.trim()}; ${os.cpus().length} CPUs; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const buildKit = await buildKitWorks();
  const warmBuilder: Builder = buildKit.ok ? 'buildkit' : 'classic';
  console.log(buildKit.ok ? 'BuildKit: works with --network=none (DOCKER_BUILDKIT=1 /usr/bin/docker build)' : `BuildKit does NOT work here (${buildKit.why}); the warm baseline falls back to the classic builder`);

  // First builds. Each side builds its own freshly salted project (same shape, other bytes), so
  // neither can hit a cache the other filled; the order alternates between runs.
  const coldDocker: number[] = [];
  const coldStrata: number[] = [];
  let last: DockerBenchProject | undefined;
  for (let r = 0; r < COLD_RUNS; r++) {
    const forDocker = newProject(`d${r}`);
    const forStrata = newProject(`s${r}`);
    const sides = [
      async () => {
        const ms = await dockerBuildAll(forDocker, 'classic', forDocker.project);
        coldDocker.push(ms);
        console.log(`  cold run ${r}: docker build (classic) × ${IMAGES}, sequential: ${ms.toFixed(0)} ms`);
      },
      async () => {
        const result = await strataBuild(forStrata.dir);
        if (result.built !== IMAGES) throw new Error(`Strata's first build built ${result.built} stages, expected ${IMAGES}`);
        coldStrata.push(result.ms);
        console.log(`  cold run ${r}: Strata first build of ${result.images} images (${result.built} stages built): ${result.ms.toFixed(0)} ms`);
      },
    ];
    for (const side of r % 2 === 0 ? sides : sides.reverse()) await side();
    last = forStrata;
  }
  if (last === undefined) throw new Error('BENCH_COLD_RUNS must be ≥ 1');
  console.log(`first build: Strata ${summary(coldStrata)}; ${IMAGES} sequential cold classic docker builds ${summary(coldDocker)}`);

  // No-op rebuilds of the project Strata built last. The docker side's first pass fills its cache.
  const warmProject = last;
  const warmRepo = `${warmProject.project}-${warmBuilder}`;
  const warming = await dockerBuildAll(warmProject, warmBuilder, warmRepo);
  console.log(`  ${warmBuilder} warming pass (cold for it): ${warming.toFixed(0)} ms`);
  const bundle = await bundleNoop(path.join(workDir, 'noop.mjs'));
  const bundleFull = await bundleNoop(path.join(workDir, 'noop-full.mjs'), { defer: false });
  console.log(
    `bundled = one ES module of noop.ts (Strata, dockerode, yaml, …) in which ${deferredModules().map((f) => path.relative(path.join(here, '../..'), f)).join(', ')} ` +
      '(ssh2 for ssh:// engines; gRPC + protobufjs for BuildKit sessions and progress, which Strata\'s classic-builder executor never uses) ' +
      'are lazy forwarders that require the installed module on first call; minified, as a published CLI is; bundledFull = the same with everything bundled and loaded at start-up (information)',
  );
  const variants = {
    /** One compiled ES module, ssh and BuildKit modules deferred (bench/docker/bundle.ts). */
    bundled: [bundle],
    /** The same, everything loaded at start-up. */
    bundledFull: [bundleFull],
    /** As the root scripts run Strata: TypeScript sources compiled by tsx at start-up. */
    tsx: ['--conditions=@strata/source', '--import', 'tsx', path.join(here, 'noop.ts')],
  } as const;
  const kinds = ['bundled', 'bundledFull', 'tsx'] as const;
  for (const args of Object.values(variants)) await strataFreshProcess(args, warmProject.dir); // disk and tsx caches
  const warmDocker: number[] = [];
  const perKind = (): Record<(typeof kinds)[number], number[]> => ({ bundled: [], bundledFull: [], tsx: [] });
  const fresh = perKind();
  const startup = perKind();
  const inside = perKind();
  const strataInProcess: number[] = [];
  for (let r = 0; r < WARM_RUNS; r++) {
    warmDocker.push(await dockerBuildAll(warmProject, warmBuilder, warmRepo));
    const line = [`${warmBuilder} cached × ${IMAGES}: ${warmDocker.at(-1)?.toFixed(0)} ms`];
    for (const kind of kinds) {
      const out = await strataFreshProcess(variants[kind], warmProject.dir);
      if (out.result.built !== 0) throw new Error(`the no-op rebuild built ${out.result.built} stages`);
      fresh[kind].push(out.wallMs);
      startup[kind].push(out.result.startupMs);
      inside[kind].push(out.result.ms);
      line.push(`Strata fresh process (${kind}) ${out.wallMs.toFixed(0)} ms (start-up ${out.result.startupMs.toFixed(0)}, build ${out.result.ms.toFixed(0)})`);
    }
    const inProcess = await strataBuild(warmProject.dir);
    if (inProcess.built !== 0) throw new Error(`the no-op rebuild built ${inProcess.built} stages`);
    strataInProcess.push(inProcess.ms);
    line.push(`Strata in-process ${inProcess.ms.toFixed(0)} ms`);
    console.log(`  warm run ${r}: ${line.join('; ')}`);
  }
  const warmName = warmBuilder === 'buildkit' ? 'BuildKit' : 'classic builder (BuildKit unavailable)';
  console.log(`no-op rebuild of ${IMAGES} images:`);
  console.log(`  docker build, ${warmName}, fully cached, sequential: ${summary(warmDocker)}`);
  for (const kind of kinds) {
    console.log(`  Strata fresh process (${kind}): ${summary(fresh[kind])}; of which start-up ${summary(startup[kind])}, build ${summary(inside[kind])}`);
  }
  console.log(`  Strata in-process (config + git + engine.build): ${summary(strataInProcess)}`);

  const baselineSuffix = warmBuilder === 'buildkit' ? 'vsBuildKitCached' : 'vsClassicCached';
  const d = best(warmDocker);
  const sp = best(fresh.bundled);
  const st = best(fresh.tsx);
  const si = best(strataInProcess);
  const cd = best(coldDocker);
  const cs = best(coldStrata);
  console.log(
    `speed-up of the no-op rebuild: ${(d / sp).toFixed(1)}× (fresh process, bundled), ${(d / st).toFixed(1)}× (fresh process, tsx), ` +
      `${(d / si).toFixed(1)}× (in-process); target ≥ 10× (fresh process, bundled). ` +
      `First build: Strata/docker = ${(cs / cd).toFixed(2)}; target ≤ 1.3`,
  );
  // ratio = Strata / docker everywhere; `ratio ≤ target` passes (0.1 = "Strata ≥ 10× faster").
  return [
    { name: `noopRebuild.20images.freshProcessBundled.${baselineSuffix}`, value: round(sp), unit: 'ms', baseline: round(d), ratio: ratioOf(sp, d), target: 0.1, pass: sp / d <= 0.1 },
    { name: `noopRebuild.20images.freshProcessTsx.${baselineSuffix}`, value: round(st), unit: 'ms', baseline: round(d), ratio: ratioOf(st, d), target: null, pass: null },
    { name: `noopRebuild.20images.inProcess.${baselineSuffix}`, value: round(si), unit: 'ms', baseline: round(d), ratio: ratioOf(si, d), target: null, pass: null },
    { name: 'firstBuild.20images.vsClassicSequentialCold', value: round(cs), unit: 'ms', baseline: round(cd), ratio: ratioOf(cs, cd), target: 1.3, pass: cs / cd <= 1.3 },
    // Medians, for information: on a loaded machine the ~1 s Strata process suffers more from bursts
    // of load than the ~10 s docker pass it is compared with.
    { name: `noopRebuild.20images.freshProcessBundled.${baselineSuffix}.median`, value: round(median(fresh.bundled)), unit: 'ms', baseline: round(median(warmDocker)), ratio: ratioOf(median(fresh.bundled), median(warmDocker)), target: null, pass: null },
    { name: 'firstBuild.20images.vsClassicSequentialCold.median', value: round(median(coldStrata)), unit: 'ms', baseline: round(median(coldDocker)), ratio: ratioOf(median(coldStrata), median(coldDocker)), target: null, pass: null },
  ];
}

let results: Result[];
try {
  results = await main();
} finally {
  cleanup();
}
printBenchSummary('docker', results);

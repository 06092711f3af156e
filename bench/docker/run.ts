/**
 * `pnpm bench:docker`: Strata on the Docker engine against `docker build` of the same 20 generated
 * Dockerfile images, measured in the same run (needs `bash scripts/services.sh start`).
 *
 * - No-op rebuild: Strata with every stage stored vs BuildKit's fully cached
 *   `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=none` of the 20 images, one after the other (one
 *   warming pass, then timed passes). Strata is timed in fresh `node` processes, the fair counterpart
 *   of 20 `docker build` processes (process start, module loading, config, git, store lookups):
 *   `launched`, the target: bench/docker/noop.ts bundled and started exactly as the bundled `strata`
 *   CLI ships (`pnpm bundle`: one minified CommonJS program, dockerode's ssh and BuildKit modules
 *   deferred, loaded by the launcher with a V8 code cache that the first, untimed run writes); for
 *   information, the same program as an ES module bundle without a code cache, the bundled
 *   `strata build --dir DIR` itself, the TypeScript sources through tsx, and in-process.
 *   Target: ≥ 10× faster (ratio ≤ 0.1). The Strata processes run without NODE_EXTRA_CA_CERTS: where
 *   the machine sets it (this one points it at the whole system CA bundle), Node parses that bundle at
 *   every start (~60 ms here), a tax of the environment on any Node program that docker (Go) does not
 *   pay; the run measures that tax and prints the launched figure with it too.
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
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../../packages/cli/scripts/bundle.js';
import { bundleNoop, bundleNoopLaunched, deferredModules } from './bundle.js';
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
async function strataFreshProcess(args: readonly string[], dir: string, env?: NodeJS.ProcessEnv): Promise<{ wallMs: number; result: FreshResult }> {
  const start = performance.now();
  const out = await mustRun(process.execPath, [...args, dir], env);
  const wallMs = performance.now() - start;
  const last = out.trim().split('\n').at(-1) ?? '';
  return { wallMs, result: JSON.parse(last) as FreshResult };
}

/** `strata build --dir DIR` of the bundled CLI in a fresh process; checks that nothing was built; returns the wall time. */
async function strataCli(launcher: string, dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  const reportPath = path.join(workDir, 'cli-report.json');
  const start = performance.now();
  await mustRun(process.execPath, [launcher, 'build', '--dir', dir, '--report-path', reportPath], env);
  const wallMs = performance.now() - start;
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { Images: Record<string, { Stages: { Status: string }[] }> };
  const built = Object.values(report.Images).flatMap((image) => image.Stages).filter((stage) => stage.Status === 'built').length;
  if (built !== 0) throw new Error(`the CLI's no-op rebuild built ${built} stages`);
  return wallMs;
}

function newProject(kind: string): DockerBenchProject {
  const project = `strata-bench-docker-${runId}-${kind}`;
  projects.push(project);
  return generateProject(path.join(workDir, kind), { project, images: IMAGES, salt: `${runId}-${kind}` });
}

/** Removes every image this run made (by label) and the temp dir. Synchronous, so it also runs on signals. */
/** Removes the images matching any of `filters` (with their untagged parents); returns how many. */
function removeImages(filters: readonly string[]): number {
  const ids = new Set<string>();
  for (const filter of filters) {
    const r = spawnSync(DOCKER, ['images', '-q', '--no-trunc', '--filter', filter], { encoding: 'utf8' });
    for (const id of r.stdout.split('\n').filter(Boolean)) ids.add(id);
  }
  if (ids.size > 0) {
    const r = spawnSync(DOCKER, ['rmi', '-f', ...ids], { encoding: 'utf8' });
    if (r.status !== 0) console.error(`cleanup: docker rmi: ${r.stderr.trim()}`);
  }
  return ids.size;
}

function cleanup(): void {
  const removed = removeImages([`label=${BENCH_LABEL}`, ...projects.map((p) => `label=werf=${p}`)]);
  rmSync(workDir, { recursive: true, force: true });
  console.log(`cleanup: removed ${removed} images and ${workDir}`);
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

  // No-op rebuilds of the project Strata built last. The images of the other first-build projects
  // (docker's, with their intermediate images, and Strata's) go first: the engine's image listing costs
  // time in proportion to every image it holds (dockerd 20.10 re-reads each image's config), and the
  // bench's own leftovers are no part of a user's daemon. The docker side's first pass fills its cache.
  const warmProject = last;
  const leftovers = removeImages([`label=${BENCH_LABEL}`, ...projects.filter((p) => p !== warmProject.project).map((p) => `label=werf=${p}`)]);
  const held = spawnSync(DOCKER, ['images', '-a', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  console.log(`  removed the ${leftovers} images of the other first-build projects; the engine now holds ${held} images (intermediate ones included)`);
  const warmRepo = `${warmProject.project}-${warmBuilder}`;
  const warming = await dockerBuildAll(warmProject, warmBuilder, warmRepo);
  console.log(`  ${warmBuilder} warming pass (cold for it): ${warming.toFixed(0)} ms`);
  // The code cache of the launched variants lives in the bench's temp dir (removed at the end).
  const machineEnv: NodeJS.ProcessEnv = { ...process.env, STRATA_CACHE_DIR: path.join(workDir, 'cache') };
  // NODE_EXTRA_CA_CERTS, when this machine sets it, makes Node parse that CA bundle at every start,
  // before any of Strata's code runs (no TLS is used here; docker, written in Go, does not read it).
  // The Strata processes run without it; `launchedMachineEnv` (information) keeps it, and the tax is
  // measured in this run on an empty `node -e 0`.
  const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutCaCerts } = machineEnv;
  const freshEnv: NodeJS.ProcessEnv = withoutCaCerts;
  if (extraCaCerts !== undefined) {
    const emptyNode = async (env: NodeJS.ProcessEnv): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        await mustRun(process.execPath, ['-e', '0'], env);
        times.push(performance.now() - start);
      }
      return best(times);
    };
    console.log(
      `NODE_EXTRA_CA_CERTS=${extraCaCerts} is set here: an empty \`node -e 0\` takes ${(await emptyNode(machineEnv)).toFixed(0)} ms with it, ` +
        `${(await emptyNode(freshEnv)).toFixed(0)} ms without (best of 5); the Strata processes run without it (launchedMachineEnv: with it, information)`,
    );
  }
  const launched = await bundleNoopLaunched(path.join(workDir, 'launched'));
  const bundle = await bundleNoop(path.join(workDir, 'noop.mjs'));
  const cli = await bundleCli(path.join(workDir, 'cli'));
  console.log(
    `launched = noop.ts bundled and started as the bundled strata CLI ships (\`pnpm bundle\`): one minified CommonJS program loaded by a launcher ` +
      'with a V8 code cache (packages/cli/src/launcher/compile-cache.ts; the first run writes the cache and is not timed, like BuildKit\'s warming pass). ' +
      `In every bundle ${deferredModules().map((f) => path.relative(path.join(here, '../..'), f)).join(', ')} ` +
      '(ssh2 for ssh:// engines; gRPC + protobufjs for BuildKit sessions and progress, which Strata\'s classic-builder executor never uses) ' +
      'are lazy forwarders that require the installed module on first call. Information: bundled = the same program as one ES module without a code cache; ' +
      'cli = the bundled `strata build --dir DIR` itself (plan, progress and summary printed, store and lock wiring; time seen from here); tsx = TypeScript sources compiled at start-up.',
  );
  const variants = {
    /** The target: the program as the bundled CLI ships it (launcher + V8 code cache). */
    launched: { args: [launched], env: freshEnv },
    /** The same with the machine's whole environment (NODE_EXTRA_CA_CERTS included). */
    launchedMachineEnv: { args: [launched], env: machineEnv },
    /** One ES module, no code cache. */
    bundled: { args: [bundle], env: freshEnv },
    /** As the root scripts run Strata: TypeScript sources compiled by tsx at start-up. */
    tsx: { args: ['--conditions=@strata/source', '--import', 'tsx', path.join(here, 'noop-main.ts')], env: freshEnv },
  } as const;
  const kinds = ['launched', 'launchedMachineEnv', 'bundled', 'tsx'] as const;
  // Fills the disk cache, tsx's cache and the code cache; the cold code-cache run is printed, not timed.
  for (const kind of kinds) {
    const first = await strataFreshProcess(variants[kind].args, warmProject.dir, variants[kind].env);
    console.log(`  first fresh process (${kind}), not timed: ${first.wallMs.toFixed(0)} ms`);
  }
  await strataCli(cli, warmProject.dir, freshEnv);
  const warmDocker: number[] = [];
  const perKind = (): Record<(typeof kinds)[number], number[]> => ({ launched: [], launchedMachineEnv: [], bundled: [], tsx: [] });
  const fresh = perKind();
  const startup = perKind();
  const inside = perKind();
  const cliRuns: number[] = [];
  const strataInProcess: number[] = [];
  for (let r = 0; r < WARM_RUNS; r++) {
    warmDocker.push(await dockerBuildAll(warmProject, warmBuilder, warmRepo));
    const line = [`${warmBuilder} cached × ${IMAGES}: ${warmDocker.at(-1)?.toFixed(0)} ms`];
    for (const kind of kinds) {
      const out = await strataFreshProcess(variants[kind].args, warmProject.dir, variants[kind].env);
      if (out.result.built !== 0) throw new Error(`the no-op rebuild built ${out.result.built} stages`);
      fresh[kind].push(out.wallMs);
      startup[kind].push(out.result.startupMs);
      inside[kind].push(out.result.ms);
      line.push(`Strata fresh process (${kind}) ${out.wallMs.toFixed(0)} ms (start-up ${out.result.startupMs.toFixed(0)}, build ${out.result.ms.toFixed(0)})`);
    }
    cliRuns.push(await strataCli(cli, warmProject.dir, freshEnv));
    line.push(`strata build (cli) ${cliRuns.at(-1)?.toFixed(0)} ms`);
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
  console.log(`  strata build (bundled CLI, launched): ${summary(cliRuns)}`);
  console.log(`  Strata in-process (config + git + engine.build): ${summary(strataInProcess)}`);

  const baselineSuffix = warmBuilder === 'buildkit' ? 'vsBuildKitCached' : 'vsClassicCached';
  const d = best(warmDocker);
  const sp = best(fresh.launched);
  const sb = best(fresh.bundled);
  const sc = best(cliRuns);
  const st = best(fresh.tsx);
  const si = best(strataInProcess);
  const cd = best(coldDocker);
  const cs = best(coldStrata);
  console.log(
    `speed-up of the no-op rebuild: ${(d / sp).toFixed(1)}× (fresh process, launched with the code cache), ${(d / sb).toFixed(1)}× (fresh process, ES module bundle), ` +
      `${(d / sc).toFixed(1)}× (bundled strata CLI), ${(d / st).toFixed(1)}× (fresh process, tsx), ${(d / si).toFixed(1)}× (in-process); ` +
      `target ≥ 10× (fresh process, launched). First build: Strata/docker = ${(cs / cd).toFixed(2)}; target ≤ 1.3`,
  );
  const vsDocker = (name: string, value: number, baseline: number, target: number | null): Result => ({
    name, value: round(value), unit: 'ms', baseline: round(baseline), ratio: ratioOf(value, baseline), target, pass: target === null ? null : value / baseline <= target,
  });
  // ratio = Strata / docker everywhere; `ratio ≤ target` passes (0.1 = "Strata ≥ 10× faster").
  return [
    vsDocker(`noopRebuild.20images.freshProcessLaunched.${baselineSuffix}`, sp, d, 0.1),
    vsDocker(`noopRebuild.20images.freshProcessLaunchedMachineEnv.${baselineSuffix}`, best(fresh.launchedMachineEnv), d, null),
    vsDocker(`noopRebuild.20images.freshProcessBundledEsm.${baselineSuffix}`, sb, d, null),
    vsDocker(`noopRebuild.20images.cliBundled.${baselineSuffix}`, sc, d, null),
    vsDocker(`noopRebuild.20images.freshProcessTsx.${baselineSuffix}`, st, d, null),
    vsDocker(`noopRebuild.20images.inProcess.${baselineSuffix}`, si, d, null),
    vsDocker('firstBuild.20images.vsClassicSequentialCold', cs, cd, 1.3),
    // Medians, for information: on a loaded machine the short Strata process suffers more from bursts
    // of load than the seconds-long docker pass it is compared with.
    vsDocker(`noopRebuild.20images.freshProcessLaunched.${baselineSuffix}.median`, median(fresh.launched), median(warmDocker), null),
    vsDocker('firstBuild.20images.vsClassicSequentialCold.median', median(coldStrata), median(coldDocker), null),
  ];
}

let results: Result[];
try {
  results = await main();
} finally {
  cleanup();
}
printBenchSummary('docker', results);

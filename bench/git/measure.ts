/**
 * One adapter's measurements, run in its own process so its peak RSS is its own. Each adapter run
 * alternates with a run of the `git` floor for the same answer, so both see the same machine load.
 * Usage: measure.ts <native|isomorphic> <repoDir> <pairsFile>; prints one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { IsomorphicGitRepository, NativeGitRepository, type GitRepository } from '../../packages/git/src/index.js';

const [adapter, dir, pairsFile] = process.argv.slice(2) as [string, string, string];
const pairs = JSON.parse(readFileSync(pairsFile, 'utf8')) as { ancestor: string; descendant: string }[];
const open = (): Promise<GitRepository> => (adapter === 'native' ? NativeGitRepository.open(dir) : IsomorphicGitRepository.open(dir));
const native = adapter === 'native';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function gitFloor(args: string[]): number {
  const t = performance.now();
  const r = spawnSync('git', ['-C', dir, ...args], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return performance.now() - t;
}

/** `git <args>` streamed into a byte-counting sink, like the adapter's output below. */
async function gitStreamFloor(args: string[]): Promise<number> {
  const t = performance.now();
  const child = spawn('git', ['-C', dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  let bytes = 0;
  for await (const chunk of child.stdout) bytes += (chunk as Buffer).length;
  if ((await exit) !== 0 || bytes === 0) throw new Error(`git ${args.join(' ')} failed`);
  return performance.now() - t;
}

interface Paired {
  ms: number;
  floorMs: number;
}

/**
 * Alternates `fn` on a fresh adapter (no warm caches) with the floor; medians of both. A floor
 * given as a function is awaited (a streamed floor); arguments are run with `spawnSync`.
 */
async function paired(runs: number, floorArgs: string[] | (() => Promise<number>) | undefined, fn: (repo: GitRepository) => Promise<unknown>): Promise<Paired> {
  const times: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (typeof floorArgs === 'function') floors.push(await floorArgs());
    else if (floorArgs) floors.push(gitFloor(floorArgs));
    const repo = await open();
    // A warm adapter (its long-lived cat-file process running, as in an engine that opened the
    // repository once) but cold data: no tree, commit-graph or blob caches.
    await repo.headCommit();
    const t = performance.now();
    await fn(repo);
    times.push(performance.now() - t);
    await repo.close();
  }
  return { ms: median(times), floorMs: floors.length > 0 ? median(floors) : Number.NaN };
}

const probe = await open();
const head = await probe.headCommit();
await probe.close();

const runs = native ? 7 : 2;
const lsTree = ['ls-tree', '-r', head];
const fullTree = await paired(runs, lsTree, (r) => r.lsTreeChecksum({ commit: head }));
const fileGlob = await paired(runs, lsTree, (r) => r.lsTreeChecksum({ commit: head, glob: '**/*.txt' }));
let answers: boolean[] = [];
const ancestry = await paired(native ? 3 : 1, undefined, async (r) => {
  answers = await r.isAncestorMany(pairs);
});
let tarBytes = 0;
// Both sides end in the same sink: chunks counted as they arrive.
const tarRun = await paired(native ? 7 : 1, () => gitStreamFloor(['archive', head, 'src']), async (r) => {
  tarBytes = 0;
  for await (const chunk of r.archive({ commit: head, basePath: 'src' })) tarBytes += (chunk as Buffer).length;
});

console.log(
  JSON.stringify({
    adapter,
    fullTree,
    fileGlob,
    ancestryMs: ancestry.ms,
    ancestryAnswers: answers,
    tar: tarRun,
    tarBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);

/**
 * One adapter's measurements, run in its own process so its peak RSS is its own.
 * Usage: measure.ts <native|isomorphic> <repoDir> <pairsFile>; prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { IsomorphicGitRepository, NativeGitRepository, type GitRepository } from '../../packages/git/src/index.js';

const [adapter, dir, pairsFile] = process.argv.slice(2) as [string, string, string];
const pairs = JSON.parse(readFileSync(pairsFile, 'utf8')) as { ancestor: string; descendant: string }[];
const open = (): Promise<GitRepository> => (adapter === 'native' ? NativeGitRepository.open(dir) : IsomorphicGitRepository.open(dir));
const runs = adapter === 'native' ? 5 : 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times `fn` on a fresh adapter each run (no warm caches), returning the median in ms. */
async function timed<T>(n: number, fn: (repo: GitRepository) => Promise<T>): Promise<{ ms: number; value: T }> {
  const times: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < n; i++) {
    const repo = await open();
    const head = await repo.headCommit();
    void head;
    const t = performance.now();
    value = await fn(repo);
    times.push(performance.now() - t);
    await repo.close();
  }
  return { ms: median(times), value: value as T };
}

const probe = await open();
const head = await probe.headCommit();
await probe.close();

const fullWalk = await timed(runs, (r) => r.lsTreeChecksum({ commit: head, excludePaths: ['**/*.tmp'] }));
const lazy = await timed(runs, (r) => r.lsTreeChecksum({ commit: head }));
const ancestry = await timed(adapter === 'native' ? 3 : 1, (r) => r.isAncestorMany(pairs));
const tarRun = await timed(adapter === 'native' ? 3 : 1, async (r) => {
  let bytes = 0;
  for await (const chunk of r.archive({ commit: head, basePath: 'src' })) bytes += (chunk as Buffer).length;
  return bytes;
});

console.log(
  JSON.stringify({
    adapter,
    checksumFullWalkMs: fullWalk.ms,
    checksumFullWalk: fullWalk.value,
    checksumLazyMs: lazy.ms,
    ancestryMs: ancestry.ms,
    ancestryAnswers: ancestry.value,
    tarMs: tarRun.ms,
    tarBytes: tarRun.value,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);

/**
 * `pnpm bench:git`: the native adapter against the `git` binary's own floor, on a generated
 * repository of 50,000 files and 2,000 commits; the isomorphic adapter's figures alongside.
 * The last printed line is the JSON summary.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateRepo, prng } from './generate.js';

interface Result {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: number | null;
  pass: boolean | null;
}

interface Measured {
  adapter: string;
  checksumFullWalkMs: number;
  checksumLazyMs: number;
  ancestryMs: number;
  ancestryAnswers: boolean[];
  tarMs: number;
  tarBytes: number;
  peakRssBytes: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeGit(dir: string, args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync('git', ['-C', dir, ...args], { maxBuffer: 1 << 30 });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.toString()}`);
  }
  return median(times);
}

function measure(adapter: string, dir: string, pairsFile: string): Measured {
  const r = spawnSync(process.execPath, ['--conditions=@strata/source', '--import', 'tsx', path.join(here, 'measure.ts'), adapter, dir, pairsFile], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`measuring ${adapter} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Measured;
}

const t0 = performance.now();
const repo = await generateRepo({ dirs: 100, subdirs: 10, filesPerDir: 50, commits: 2000 });
console.log(`repository: ${repo.dir} (${repo.files} files under src/, ${repo.commits} commits, ready in ${Math.round(performance.now() - t0)} ms)`);
const head = spawnSync('git', ['-C', repo.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();

const rand = prng(7);
const pairs = Array.from({ length: 1000 }, () => ({
  ancestor: repo.commitIds[Math.floor(rand() * repo.commitIds.length)]!,
  descendant: repo.commitIds[Math.floor(rand() * repo.commitIds.length)]!,
}));
const pairsFile = path.join(os.tmpdir(), `strata-bench-git-pairs-${process.pid}.json`);
writeFileSync(pairsFile, JSON.stringify(pairs));

// Floors: what the git binary itself needs for the same answers.
const lsTreeMs = timeGit(repo.dir, ['ls-tree', '-r', head], 5);
const archiveMs = timeGit(repo.dir, ['archive', head, 'src'], 3);
const floorAnswers: boolean[] = [];
const tAnc = performance.now();
for (const p of pairs) {
  const r = spawnSync('git', ['-C', repo.dir, 'merge-base', '--is-ancestor', p.ancestor, p.descendant]);
  floorAnswers.push(r.status === 0);
}
const mergeBaseMs = performance.now() - tAnc;

const results: Result[] = [];
const ratioResult = (name: string, value: number, baseline: number, target: number | null): Result => {
  const ratio = Math.round((value / baseline) * 100) / 100;
  return { name, value: Math.round(value * 10) / 10, unit: 'ms', baseline: Math.round(baseline * 10) / 10, ratio, target, pass: target === null ? null : ratio <= target };
};

for (const adapter of ['native', 'isomorphic']) {
  const m = measure(adapter, repo.dir, pairsFile);
  const native = adapter === 'native';
  const wrong = m.ancestryAnswers.filter((a, i) => a !== floorAnswers[i]).length;
  if (wrong > 0) throw new Error(`${adapter}: ${wrong} of 1000 ancestry answers differ from git merge-base`);
  console.log(
    `${adapter}: full-walk checksum ${m.checksumFullWalkMs.toFixed(1)} ms (lazy root ${m.checksumLazyMs.toFixed(1)} ms), ` +
      `1000 isAncestor ${m.ancestryMs.toFixed(1)} ms, tar ${m.tarMs.toFixed(1)} ms (${m.tarBytes} bytes), peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  results.push(ratioResult(`${adapter}.lsTreeChecksum.fullTree`, m.checksumFullWalkMs, lsTreeMs, native ? 1.5 : null));
  results.push(ratioResult(`${adapter}.isAncestor.x1000`, m.ancestryMs, mergeBaseMs, native ? 1.0 : null));
  results.push(ratioResult(`${adapter}.archive.50kFiles`, m.tarMs, archiveMs, native ? 1.5 : null));
  const rssMb = Math.round(m.peakRssBytes / 2 ** 20);
  results.push({ name: `${adapter}.peakRss`, value: rssMb, unit: 'MiB', baseline: null, ratio: null, target: native ? 300 : null, pass: native ? rssMb <= 300 : null });
}
console.log(`floors: git ls-tree -r ${lsTreeMs.toFixed(1)} ms, 1000 × git merge-base --is-ancestor ${mergeBaseMs.toFixed(0)} ms, git archive ${archiveMs.toFixed(1)} ms`);
console.log(JSON.stringify({ bench: 'git', results }));

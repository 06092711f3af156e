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
import { printBenchSummary, type BenchResult } from '../support/summary.js';

type Result = BenchResult;

interface Paired {
  ms: number;
  floorMs: number;
}

interface Measured {
  adapter: string;
  fullTree: Paired;
  fileGlob: Paired;
  ancestryMs: number;
  ancestryAnswers: boolean[];
  tar: Paired;
  tarBytes: number;
  peakRssBytes: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

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

const rand = prng(7);
const pairs = Array.from({ length: 1000 }, () => ({
  ancestor: repo.commitIds[Math.floor(rand() * repo.commitIds.length)]!,
  descendant: repo.commitIds[Math.floor(rand() * repo.commitIds.length)]!,
}));
const pairsFile = path.join(os.tmpdir(), `strata-bench-git-pairs-${process.pid}.json`);
writeFileSync(pairsFile, JSON.stringify(pairs));

// Floor for ancestry: one `git merge-base --is-ancestor` process per question.
const floorAnswers: boolean[] = [];
const tAnc = performance.now();
for (const p of pairs) {
  const r = spawnSync('git', ['-C', repo.dir, 'merge-base', '--is-ancestor', p.ancestor, p.descendant]);
  floorAnswers.push(r.status === 0);
}
const mergeBaseMs = performance.now() - tAnc;

const results: Result[] = [];
const ratioResult = (name: string, value: number, baseline: number, target: number | null): Result => {
  const ratio = Number((value / baseline).toPrecision(3));
  return { name, value: Math.round(value * 10) / 10, unit: 'ms', baseline: Math.round(baseline * 10) / 10, ratio, target, pass: target === null ? null : ratio <= target };
};

for (const adapter of ['native', 'isomorphic']) {
  const m = measure(adapter, repo.dir, pairsFile);
  const native = adapter === 'native';
  const wrong = m.ancestryAnswers.filter((a, i) => a !== floorAnswers[i]).length;
  if (wrong > 0) throw new Error(`${adapter}: ${wrong} of 1000 ancestry answers differ from git merge-base`);
  console.log(
    `${adapter}: full-tree checksum ${m.fullTree.ms.toFixed(1)} ms (git ls-tree -r ${m.fullTree.floorMs.toFixed(1)} ms); ` +
      `"**/*.txt" checksum over every file ${m.fileGlob.ms.toFixed(1)} ms (git ls-tree -r ${m.fileGlob.floorMs.toFixed(1)} ms); ` +
      `1000 isAncestor ${m.ancestryMs.toFixed(1)} ms (1000 × git merge-base ${mergeBaseMs.toFixed(0)} ms); ` +
      `tar ${m.tar.ms.toFixed(1)} ms, ${m.tarBytes} bytes (git archive ${m.tar.floorMs.toFixed(1)} ms); peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  results.push(ratioResult(`${adapter}.lsTreeChecksum.fullTree`, m.fullTree.ms, m.fullTree.floorMs, native ? 1.5 : null));
  // Informational: a glob that matches every file individually defeats the lazy walk.
  results.push(ratioResult(`${adapter}.lsTreeChecksum.everyFileGlob`, m.fileGlob.ms, m.fileGlob.floorMs, null));
  results.push(ratioResult(`${adapter}.isAncestor.x1000`, m.ancestryMs, mergeBaseMs, native ? 1.0 : null));
  results.push(ratioResult(`${adapter}.archive.50kFiles`, m.tar.ms, m.tar.floorMs, native ? 1.5 : null));
  const rssMb = Math.round(m.peakRssBytes / 2 ** 20);
  results.push({ name: `${adapter}.peakRss`, value: rssMb, unit: 'MiB', baseline: null, ratio: null, target: native ? 300 : null, pass: native ? rssMb <= 300 : null });
}
printBenchSummary('git', results);

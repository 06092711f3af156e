/**
 * Deterministic benchmark repository, built with `git fast-import` and cached under the temp dir
 * by its parameters.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RepoParams {
  dirs: number;
  subdirs: number;
  filesPerDir: number;
  commits: number;
}

export interface BenchRepo {
  dir: string;
  files: number;
  commits: number;
  /** Every commit id in creation order (main line and side branches). */
  commitIds: string[];
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filePath(d: number, s: number, f: number): string {
  return `src/d${String(d).padStart(3, '0')}/s${String(s).padStart(2, '0')}/f${String(f).padStart(2, '0')}.txt`;
}

export async function generateRepo(params: RepoParams): Promise<BenchRepo> {
  const key = `strata-bench-git-v1-${params.dirs}x${params.subdirs}x${params.filesPerDir}-${params.commits}`;
  const dir = path.join(os.tmpdir(), key);
  const files = params.dirs * params.subdirs * params.filesPerDir;
  const ready = path.join(dir, '.git', 'strata-bench-ready');
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    spawnSync('git', ['init', '-q', '-b', 'main', dir], { stdio: 'inherit' });
    await fastImport(dir, params);
    spawnSync('git', ['-C', dir, 'checkout', '-q', '-f', 'main'], { stdio: 'inherit' });
    spawnSync('sh', ['-c', `date > "${ready}"`]);
  }
  const revs = spawnSync('git', ['-C', dir, 'rev-list', '--all', '--reverse', '--topo-order'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const commitIds = revs.stdout.trim().split('\n');
  return { dir, files, commits: commitIds.length, commitIds };
}

function fastImport(dir: string, params: RepoParams): Promise<void> {
  const child = spawn('git', ['-C', dir, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
  const rand = prng(42);
  const chunks: string[] = [];
  const out = (s: string): void => {
    chunks.push(s);
  };
  const data = (text: string): void => out(`data ${Buffer.byteLength(text)}\n${text}\n`);
  let mark = 0;
  let time = 1_700_000_000;
  const commit = (branch: string, message: string, parents: number[], body: () => void): number => {
    mark += 1;
    time += 60;
    out(`commit refs/heads/${branch}\nmark :${mark}\ncommitter Bench <bench@example.com> ${time} +0000\n`);
    data(message);
    if (parents[0] !== undefined) out(`from :${parents[0]}\n`);
    for (const p of parents.slice(1)) out(`merge :${p}\n`);
    body();
    return mark;
  };
  const randomFile = (): string =>
    filePath(Math.floor(rand() * params.dirs), Math.floor(rand() * params.subdirs), Math.floor(rand() * params.filesPerDir));

  let head = commit('main', 'initial', [], () => {
    for (let d = 0; d < params.dirs; d++)
      for (let s = 0; s < params.subdirs; s++)
        for (let f = 0; f < params.filesPerDir; f++) {
          const p = filePath(d, s, f);
          out(`M 100644 inline ${p}\n`);
          data(`${p}\nversion 0\n`);
        }
    out('M 100755 inline tools/build.sh\n');
    data('#!/bin/sh\necho build\n');
    out('M 120000 inline tools/latest\n');
    data('build.sh');
  });
  let made = 1;
  let branchNo = 0;
  while (made < params.commits) {
    if (made % 50 === 10 && made + 6 < params.commits) {
      // A side branch of 4 commits merged back: history with merges and sibling commits.
      branchNo += 1;
      const name = `topic-${branchNo}`;
      let side = head;
      for (let k = 0; k < 4; k++) {
        side = commit(name, `${name} ${k}`, [side], () => {
          const p = randomFile();
          out(`M 100644 inline ${p}\n`);
          data(`${p}\n${name} ${k}\n`);
        });
      }
      head = commit('main', `change ${made}`, [head], () => {
        const p = randomFile();
        out(`M 100644 inline ${p}\n`);
        data(`${p}\nmain ${made}\n`);
      });
      head = commit('main', `merge ${name}`, [head, side], () => undefined);
      made += 6;
      continue;
    }
    head = commit('main', `change ${made}`, [head], () => {
      for (let k = 0; k < 3; k++) {
        const p = randomFile();
        out(`M 100644 inline ${p}\n`);
        data(`${p}\nversion ${made}.${k}\n`);
      }
    });
    made += 1;
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited with ${code}`))));
    child.stdin.end(chunks.join(''));
  });
}

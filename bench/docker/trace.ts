/**
 * Where a no-op rebuild's time goes: `node --conditions=@strata/source --import tsx bench/docker/trace.ts`
 * generates the 20-image project, builds it once, then runs no-op rebuilds with every Docker API call and
 * git call of the engine timed, and prints, for the last run, a timeline and the totals per call.
 * Removes what it built. Not a benchmark (no JSON line); a diagnostic for bench:docker.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { loadConfig } from '@strata/config';
import { createEngine, MemoryStageLock } from '@strata/core';
import { DockerExecutor, DockerStageStore } from '@strata/docker';
import { NativeGitRepository } from '@strata/git';
import { generateProject } from './generate.js';

interface Span {
  what: string;
  start: number;
  end: number;
}

let spans: Span[] = [];
let t0 = 0;

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now() - t0;
  try {
    return await work();
  } finally {
    spans.push({ what, start, end: performance.now() - t0 });
  }
}

/** Times every promise-returning method of `target` (and of the images `getImage` hands out). */
function traced<T extends object>(target: T, prefix: string): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      const name = `${prefix}.${String(key)}`;
      return (...args: unknown[]) => {
        const out: unknown = Reflect.apply(value, obj, args);
        if (key === 'getImage' && typeof out === 'object' && out !== null) return traced(out, `${prefix}.image`);
        if (out instanceof Promise) return timed(name, () => out);
        return out;
      };
    },
  });
}

const RUNS = Number(process.env.BENCH_TRACE_RUNS ?? 5);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-docker-trace-'));
const project = `strata-bench-docker-trace-${Date.now().toString(36)}`;
const generated = generateProject(workDir, { project, images: 20, salt: project });

async function build(trace: boolean): Promise<{ ms: number; built: number }> {
  spans = [];
  t0 = performance.now();
  const loaded = await timed('loadConfig', () => loadConfig(generated.dir));
  if (!loaded.ok) throw new Error('config');
  const opened = await timed('git.open', () => NativeGitRepository.open(generated.dir));
  const repository = trace ? traced(opened, 'git') : opened;
  try {
    const raw = new Dockerode({ socketPath: '/var/run/docker.sock' });
    const docker = trace ? traced(raw, 'docker') : raw;
    const engine = createEngine({
      config: loaded.config,
      repository,
      stores: { primary: new DockerStageStore({ docker, project }) },
      lock: new MemoryStageLock(),
      executor: new DockerExecutor({ docker, git: repository, pullMissingBase: false }),
      events: (event) => {
        if (event.type === 'stageFinished') spans.push({ what: `stage ${event.image}`, start: performance.now() - t0 - event.durationMs, end: performance.now() - t0 });
      },
    });
    const result = await timed('engine.build', () => engine.build());
    return { ms: performance.now() - t0, built: result.images.flatMap((i) => i.stages).filter((s) => s.status === 'built').length };
  } finally {
    await opened.close();
  }
}

try {
  const first = await build(false);
  console.log(`first build: ${first.ms.toFixed(0)} ms, ${first.built} stages built`);
  for (let r = 0; r < RUNS; r++) {
    const again = await build(true);
    console.log(`no-op rebuild ${r}: ${again.ms.toFixed(0)} ms, ${again.built} built`);
  }
  console.log('\ntimeline of the last no-op rebuild (ms from its start):');
  for (const s of [...spans].sort((a, b) => a.start - b.start)) console.log(`${s.start.toFixed(1).padStart(8)} → ${s.end.toFixed(1).padStart(8)}  ${(s.end - s.start).toFixed(1).padStart(7)}  ${s.what}`);
  const totals = new Map<string, { n: number; ms: number }>();
  for (const s of spans) {
    const key = s.what.startsWith('stage ') ? 'stage (any)' : s.what;
    const t = totals.get(key) ?? { n: 0, ms: 0 };
    totals.set(key, { n: t.n + 1, ms: t.ms + s.end - s.start });
  }
  console.log('\ntotals (calls, summed duration; concurrent calls overlap):');
  for (const [what, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${t.ms.toFixed(1).padStart(8)} ms  ${String(t.n).padStart(3)}×  ${what}`);
} finally {
  const ids = spawnSync('docker', ['images', '-q', '--no-trunc', '--filter', `label=werf=${project}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) spawnSync('docker', ['rmi', '-f', ...new Set(ids)]);
  rmSync(workDir, { recursive: true, force: true });
}

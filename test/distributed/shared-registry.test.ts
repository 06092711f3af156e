/**
 * Distributed registry storage end to end (the registry of `scripts/services.sh`, Redis locks, the real
 * Docker daemon): several `strata build` OS processes on one project, a lock holder killed with
 * `kill -9`, copies from a secondary repository with cache and final repositories, and a stage whose
 * manifest was deleted behind Strata's back. Every builder here shares the one local Docker daemon
 * (its image store is a cache only when `--repo` is used; lookups go to the registry).
 * Skips with a reason without the services; fails under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stageLockKey, type StageDigest } from '../../packages/core/src/index.js';
import { REDIS_URL, REGISTRY, requireServices, runCommand } from '../support/services.js';
import {
  GIT_STAGES, deleteManifest, describeRun, findBrokenTags, findManifest, listTags, makeExample, readReport,
  removeProjectImages, repoRoot, reportStages, runStrata, spawnStrata, spawnTs, unique,
} from './support.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-distributed-'));
const projects: string[] = [];

afterAll(async () => {
  for (const project of projects) await removeProjectImages(project).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}, 180_000);

async function project(example: string): Promise<{ dir: string; project: string; commit: string }> {
  const name = `strata-dist-${example}-${unique()}`;
  const dir = path.join(scratch, name);
  const commit = await makeExample(example, dir, name);
  projects.push(name);
  return { dir, project: name, commit };
}

const repoFor = (name: string): string => `${REGISTRY}/strata-dist/${name}-${unique()}`;

describe('four builders of one project against one registry and the Redis lock', () => {
  it('store every non-git digest exactly once and report the same final images', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const made = await project('multi-image');
    // Four separate clones of the same commit: each builder reads its own working copy.
    const clones = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const dir = path.join(scratch, `${made.project}-clone${i}`);
        await runCommand('git', ['clone', '-q', made.dir, dir]);
        return dir;
      }),
    );
    const repo = repoFor('four');
    const reports = clones.map((_, i) => path.join(scratch, `${made.project}-report${i}.json`));
    const runs = await Promise.all(
      clones.map((dir, i) => runStrata(['build', '--dir', dir, '--repo', repo, '--synchronization', REDIS_URL, '--report-path', reports[i] as string])),
    );
    for (const run of runs) {
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.stderr, describeRun(run)).toBe('');
    }

    const parsed = reports.map(readReport);
    const finals = parsed.map((report) =>
      Object.fromEntries(Object.entries(report.Images).filter(([, image]) => image.Final).map(([name, image]) => [name, image.DockerImageName])),
    );
    expect(Object.keys(finals[0] ?? {}).sort()).toEqual(['api', 'base', 'bundle', 'runtime', 'worker']);
    for (const other of finals.slice(1)) expect(other).toEqual(finals[0]);
    for (const report of parsed) expect(Object.values(report.Images).every((image) => image.Commit === made.commit)).toBe(true);

    const tags = await listTags(repo);
    const byDigest = new Map<string, string[]>();
    for (const tag of tags) {
      const digest = tag.split('-')[0] as string;
      byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    }
    const stages = parsed.flatMap(reportStages);
    const digests = new Map(stages.map((stage) => [stage.digest, stage.name]));
    // Every stored stage belongs to the build, and every stage of the build is stored.
    expect([...byDigest.keys()].sort()).toEqual([...digests.keys()].sort());
    for (const [digest, name] of digests) {
      const stored = byDigest.get(digest) ?? [];
      if (GIT_STAGES.has(name)) expect(stored.length, `${name} ${digest}`).toBeGreaterThanOrEqual(1);
      else expect(stored, `${name} ${digest}`).toHaveLength(1);
    }
    // Every report names the one stored id of each stage.
    for (const stage of stages) expect(byDigest.get(stage.digest), `${stage.image}/${stage.name}`).toContain(stage.id);
    const builtCount = stages.filter((stage) => stage.status === 'built').length;
    console.log(`four builders: ${tags.length} tags stored; statuses per process: ${parsed.map((report) => JSON.stringify(countBy(reportStages(report).map((stage) => stage.status)))).join(' ')}`);
    const distinctIds = new Set(stages.map((stage) => stage.id)).size;
    // Each stage id was built by at most one process (the others reused it).
    expect(builtCount).toBeLessThanOrEqual(distinctIds);
    expect(await findBrokenTags(repo)).toEqual([]);
  }, 600_000);
});

describe('a lock holder killed with kill -9', () => {
  it('does not block a waiting build for longer than its lease', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const made = await project('stapel-app');
    // A first build elsewhere gives the stage digests (they do not depend on the repository).
    const probeReport = path.join(scratch, `${made.project}-probe.json`);
    const probe = await runStrata(['build', '--dir', made.dir, '--repo', repoFor('probe'), '--synchronization', REDIS_URL, '--report-path', probeReport]);
    expect(probe.code, describeRun(probe)).toBe(0);
    const from = reportStages(readReport(probeReport)).find((stage) => stage.image === 'app' && stage.name === 'from');
    if (from === undefined) throw new Error('no from stage in the report');

    // A holder process takes the publish lock of the `from` digest with a 4 s lease and renews it.
    const ttlMs = 4000;
    const key = stageLockKey(made.project, from.digest as StageDigest);
    const holder = spawnStrataLockHolder(key, ttlMs);
    try {
      await holder.ready;
      const repo = repoFor('killed');
      const reportPath = path.join(scratch, `${made.project}-killed.json`);
      const build = spawnStrata(['build', '--dir', made.dir, '--repo', repo, '--synchronization', REDIS_URL, '--report-path', reportPath]);
      let finished = false;
      void build.done.then(() => (finished = true));
      // Long enough for the build to reach the lock, and more than two leases: the holder renews.
      await sleep(12_000);
      expect(finished, 'the build finished while the holder held the lock of its base stage').toBe(false);
      expect((await listTags(repo)).filter((tag) => tag.startsWith(`${from.digest}-`))).toEqual([]);
      expect(holder.output()).not.toContain('LOST');

      holder.child.kill('SIGKILL');
      const killedAt = Date.now();
      let publishedAfterMs: number | undefined;
      while (publishedAfterMs === undefined && Date.now() - killedAt < ttlMs + 20_000) {
        if ((await listTags(repo)).some((tag) => tag.startsWith(`${from.digest}-`))) publishedAfterMs = Date.now() - killedAt;
        else await sleep(100);
      }
      // Redis expires the dead holder's key at most one lease after its last renewal; the margin
      // covers the waiter's poll interval and the push of the stage by the daemon.
      console.log(`kill -9 test: stage published ${publishedAfterMs ?? 'never'} ms after the holder (lease ${ttlMs} ms) was killed`);
      expect(publishedAfterMs, 'the stage was not published after the holder died').toBeDefined();
      expect(publishedAfterMs).toBeLessThanOrEqual(ttlMs + 4000);
      const run = await build.done;
      expect(run.code, describeRun(run)).toBe(0);
      expect(readReport(reportPath).Images.app?.Final).toBe(true);
    } finally {
      holder.child.kill('SIGKILL');
    }
  }, 300_000);
});

describe('secondary, cache and final repositories', () => {
  it('copies secondary hits into the primary under the same ids, fills the cache, and puts only final images in the final repository', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const made = await project('stapel-app');
    const [a, b, c, f] = ['a', 'b', 'cache', 'final'].map(repoFor) as [string, string, string, string];
    const firstReport = path.join(scratch, `${made.project}-a.json`);
    const first = await runStrata(['build', '--dir', made.dir, '--repo', a, '--synchronization', REDIS_URL, '--report-path', firstReport]);
    expect(first.code, describeRun(first)).toBe(0);
    const firstStages = reportStages(readReport(firstReport));

    const secondReport = path.join(scratch, `${made.project}-b.json`);
    const second = await runStrata([
      'build', '--dir', made.dir, '--repo', b, '--secondary-repo', a, '--cache-repo', c, '--final-repo', f,
      '--synchronization', REDIS_URL, '--report-path', secondReport,
    ]);
    expect(second.code, describeRun(second)).toBe(0);
    const report = readReport(secondReport);
    const stages = reportStages(report);
    // Same stage ids as in A (the shared `from` is copied once, then reused by the other image).
    expect(stages.map((stage) => `${stage.image}/${stage.name} ${stage.id}`)).toEqual(firstStages.map((stage) => `${stage.image}/${stage.name} ${stage.id}`));
    const ids = [...new Set(stages.map((stage) => stage.id))].sort();
    for (const id of ids) {
      const statuses = stages.filter((stage) => stage.id === id).map((stage) => stage.status);
      expect(statuses, id).toContain('copied');
      expect(statuses.every((status) => status === 'copied' || status === 'reused'), `${id}: ${statuses.join()}`).toBe(true);
    }
    expect(await listTags(b)).toEqual(ids);
    // A copy keeps the manifest (same digest) in the primary.
    for (const id of ids) expect((await findManifest(b, id))?.digest, id).toBe((await findManifest(a, id))?.digest);
    expect(await listTags(c)).toEqual(ids);
    const finalIds = Object.values(report.Images).filter((image) => image.Final).map((image) => image.Stages.at(-1)?.StageID ?? '');
    expect(finalIds).toHaveLength(1);
    expect(await listTags(f)).toEqual(finalIds.sort());
    for (const repo of [b, c, f]) expect(await findBrokenTags(repo), repo).toEqual([]);
  }, 300_000);
});

describe('a stage whose manifest was deleted from the registry', () => {
  it('is treated as absent and rebuilt; every other stage is reused', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const made = await project('stapel-app');
    const repo = repoFor('deleted');
    const reportPath = path.join(scratch, `${made.project}-deleted.json`);
    const first = await runStrata(['build', '--dir', made.dir, '--repo', repo, '--synchronization', REDIS_URL, '--report-path', reportPath]);
    expect(first.code, describeRun(first)).toBe(0);
    const before = reportStages(readReport(reportPath));
    // The last stage of app: only it must be rebuilt. (An earlier one would take the later stages of its
    // chain with it: SPEC §4.1 step 4 drops candidates older than the previous stage's selection.)
    const victim = before.filter((stage) => stage.image === 'app').at(-1);
    if (victim === undefined) throw new Error('no app stage');
    const manifest = await findManifest(repo, victim.id);
    if (manifest === undefined) throw new Error(`${victim.id} is not in ${repo}`);
    // Deleting by digest drops every tag on that manifest: it must be this stage's alone.
    for (const stage of before.filter((s) => s.id !== victim.id)) expect((await findManifest(repo, stage.id))?.digest).not.toBe(manifest.digest);
    expect(await deleteManifest(repo, manifest.digest)).toBe(202);
    expect(await findManifest(repo, victim.id)).toBeUndefined();

    const second = await runStrata(['build', '--dir', made.dir, '--repo', repo, '--synchronization', REDIS_URL, '--report-path', reportPath]);
    expect(second.code, describeRun(second)).toBe(0);
    const after = reportStages(readReport(reportPath));
    // Same digests (nothing changed in the project)…
    expect(after.map((stage) => `${stage.image}/${stage.name} ${stage.digest}`)).toEqual(before.map((stage) => `${stage.image}/${stage.name} ${stage.digest}`));
    // …the deleted stage is built again (with any later stage of its chain); everything else is reused.
    const appStages = before.filter((stage) => stage.image === 'app');
    const rebuiltNames = new Set(appStages.slice(appStages.findIndex((stage) => stage.id === victim.id)).map((stage) => stage.name));
    for (const stage of after) {
      const expected = stage.image === 'app' && rebuiltNames.has(stage.name) ? 'built' : 'reused';
      expect(stage.status, `${stage.image}/${stage.name}`).toBe(expected);
    }
    const rebuilt = after.find((stage) => stage.digest === victim.digest);
    expect(rebuilt?.id).not.toBe(victim.id);
    expect(await findManifest(repo, rebuilt?.id ?? '')).toBeDefined();
    expect(await findBrokenTags(repo)).toEqual([]);
  }, 300_000);
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The locks package's holder fixture in its own process (Redis, the CLI's default namespace `strata`). */
function spawnStrataLockHolder(key: string, ttlMs: number): { child: ReturnType<typeof spawnStrata>['child']; ready: Promise<void>; output: () => string } {
  const { child } = spawnHolder(['redis', REDIS_URL, key, String(ttlMs), 'strata']);
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      if (output.includes('READY')) resolve();
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before holding the lock: ${output}`)));
  });
  return { child, ready, output: () => output };
}

function spawnHolder(args: string[]): ReturnType<typeof spawnStrata> {
  const fixture = path.join(repoRoot, 'packages/locks/test/fixtures/holder.ts');
  return spawnTs(fixture, args);
}

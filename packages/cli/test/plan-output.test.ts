/**
 * The shape of `strata plan`'s output, from core's real `plan()` over a real git repository (an
 * example made by examples/make-repo.sh) with in-memory stores: no Docker needed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getConfig } from '@strata/config';
import { createEngine, MemoryStageLock, MemoryStageStore } from '@strata/core';
import { FakeExecutor } from '@strata/core/testing';
import { NativeGitRepository } from '@strata/git';
import { formatPlanResult, planJson } from '../src/commands/plan.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-cli-plan-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function planOf(example: string, parallelTasksLimit: number, build = false) {
  const dir = path.join(scratch, `${example}-${parallelTasksLimit}-${String(build)}`);
  execFileSync('bash', [path.join(repoRoot, 'examples/make-repo.sh'), example, dir]);
  const repository = await NativeGitRepository.open(dir);
  try {
    const { config } = await getConfig(dir);
    const engine = createEngine({
      config,
      repository,
      stores: { primary: new MemoryStageStore({ name: 'memory' }) },
      lock: new MemoryStageLock(),
      executor: new FakeExecutor(),
      parallelTasksLimit,
    });
    if (build) await engine.build();
    return await engine.plan();
  } finally {
    await repository.close();
  }
}

describe('strata plan output', () => {
  it('prints the SPEC §4.4 box first, then each image\'s knowable digests and what a build would do', async () => {
    const text = formatPlanResult(await planOf('multi-image', 5));
    const lines = text.split('\n');
    const title = 'Concurrent builds plan (no more than 5 images at the same time)';
    expect(lines.slice(0, 15)).toEqual([
      `┌ ${title}`,
      '│ Set #0:',
      '│ - ⛵ image base',
      '│ - 🛸 artifact tools',
      '│',
      '│ Set #1:',
      '│ - ⛵ image runtime',
      '│',
      '│ Set #2:',
      '│ - ⛵ image api',
      '│ - ⛵ image worker',
      '│',
      '│ Set #3:',
      '│ - ⛵ image bundle',
      `└ ${title}`,
    ]);
    expect(text).toMatch(/\nbase:\n {2}from {11}[0-9a-f]{56} {2}build: not stored yet\n {2}beforeInstall {2}[0-9a-f]{56} {2}build: the previous stage is rebuilt\n/);
    // runtime imports from tools, still to be built: the rest of its digests are known only during the build.
    expect(text).toMatch(/\nruntime:\n {2}from +[0-9a-f]{56} {2}build: not stored yet\n {2}dependenciesBeforeInstall +\(digest known only during the build: .*tools.*\)\n/);
  });

  it('prints an unlimited plan, and shows reuse once stages are stored', async () => {
    const result = await planOf('stapel-app', 0, true);
    const text = formatPlanResult(result);
    expect(text.split('\n')[0]).toMatch(/^┌ Concurrent builds plan \(no limit/);
    expect(text).toMatch(/\nassets:\n {2}from {8}[0-9a-f]{56} {2}reuse [0-9a-f]{56}-\d+ \(memory\)\n/);
    const json = planJson(result) as {
      sets: { image: string; artifact: boolean }[][];
      images: { image: string; stages: { decision: { kind: string } }[]; pending?: { stage: string; reason: { kind: string } } }[];
    };
    expect(json.sets).toEqual([[{ image: 'assets', artifact: true, dependsOn: [] }], [{ image: 'app', artifact: false, dependsOn: ['assets'] }]]);
    expect(json.images.flatMap((image) => image.stages.map((stage) => stage.decision.kind))).toEqual(Array(7).fill('reuse'));
    // Import checksums need the executor, which plan() never calls.
    expect(json.images[1]?.pending).toMatchObject({ stage: 'dependenciesAfterInstall', reason: { kind: 'importChecksum' } });
  });
});

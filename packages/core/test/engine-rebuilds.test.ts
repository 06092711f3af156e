/**
 * What a second build rebuilds, over a REAL git repository (temp dir, git CLI), the in-memory store and
 * the fake executor: stageDependencies, cache versions, branches and merges, and which stored stage wins.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ResolvedConfig } from '@strata/config';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { createEngine, formatStageId, type BuildResult, type StageRecord } from '@strata/core';
import { FakeExecutor, MemoryStageLock, MemoryStageStore } from '@strata/core/testing';
import { ScratchRepo } from './support/git-repo.js';

const CONFIG = (setupCacheVersion = '1') => `project: demo
configVersion: 1
---
image: app
from: alpine:3.18
git:
- add: /
  to: /app
  stageDependencies:
    install: ['package.json']
shell:
  beforeInstall: [apk add nodejs]
  install: [npm ci]
  beforeSetup: [echo before setup]
  setup: [npm run build]
  setupCacheVersion: "${setupCacheVersion}"
`;

function config(text: string): ResolvedConfig {
  const result = parseConfig(text, { path: 'werf.yaml' });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

let repo: ScratchRepo;
let repository: GitRepository;
let primary: MemoryStageStore;
let executor: FakeExecutor;

beforeEach(async () => {
  repo = new ScratchRepo();
  repo.write('package.json', '{"name":"demo"}\n').write('server.js', 'console.log("hi")\n');
  repo.commit('initial');
  repository = await NativeGitRepository.open(repo.root);
  primary = new MemoryStageStore({ name: 'primary' });
  executor = new FakeExecutor();
});

afterEach(async () => {
  await repository.close();
  repo.dispose();
});

const build = (text = CONFIG()): Promise<BuildResult> =>
  createEngine({ config: config(text), repository, stores: { primary }, lock: new MemoryStageLock(), executor }).build();

const statuses = (result: BuildResult): string[] => result.report.Images.app?.Stages.map((s) => `${s.Name}:${s.Status}`) ?? [];
const stage = (result: BuildResult, name: string) => result.report.Images.app?.Stages.find((s) => s.Name === name);

describe('a second build', () => {
  it('reuses every stage', async () => {
    const first = await build();
    expect(statuses(first).every((s) => s.endsWith(':built'))).toBe(true);
    const calls = executor.calls.length;
    const second = await build();
    expect(statuses(second)).toEqual(['from', 'beforeInstall', 'gitArchive', 'install', 'beforeSetup', 'setup'].map((s) => `${s}:reused`));
    expect(executor.calls.length).toBe(calls);
  });

  it('rebuilds install and what follows when a stageDependencies.install file changes, nothing before it', async () => {
    const first = await build();
    repo.write('package.json', '{"name":"demo","dependencies":{"x":"1"}}\n');
    repo.commit('dependencies');
    const second = await build();
    expect(statuses(second)).toEqual([
      'from:reused', 'beforeInstall:reused', 'gitArchive:reused', 'install:built', 'beforeSetup:built', 'setup:built',
    ]);
    expect(stage(second, 'gitArchive')?.StageID).toBe(stage(first, 'gitArchive')?.StageID);
    expect(stage(second, 'install')?.Digest).not.toBe(stage(first, 'install')?.Digest);
  });

  it('reuses install for a change elsewhere and carries it as the latest patch', async () => {
    await build();
    repo.write('server.js', 'console.log("changed")\n');
    repo.commit('code');
    expect(statuses(await build())).toEqual([
      'from:reused', 'beforeInstall:reused', 'gitArchive:reused', 'install:reused', 'beforeSetup:reused', 'setup:reused', 'gitLatestPatch:built',
    ]);
  });

  it('rebuilds only from setup when shell.setupCacheVersion changes', async () => {
    await build(CONFIG('1'));
    const second = await build(CONFIG('2'));
    expect(statuses(second)).toEqual([
      'from:reused', 'beforeInstall:reused', 'gitArchive:reused', 'install:reused', 'beforeSetup:reused', 'setup:built',
    ]);
  });
});

describe('branches', () => {
  it('does not reuse a stage built on a sibling branch with the same digest, until a merge makes its commit an ancestor', async () => {
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('feature.txt', 'feature\n');
    repo.commit('feature');
    const onFeature = await build();
    repo.git('checkout', '-q', 'main');
    repo.write('main.txt', 'main\n');
    repo.commit('main work');

    // Same digest, but the commit it records is on the sibling branch: a build would not reuse it.
    const engine = createEngine({ config: config(CONFIG()), repository, stores: { primary }, lock: new MemoryStageLock(), executor });
    const planned = (await engine.plan()).images[0]?.stages.find((s) => s.name === 'gitArchive');
    expect(planned?.digest).toBe(stage(onFeature, 'gitArchive')?.Digest);
    expect(planned?.decision).toMatchObject({ kind: 'build', reason: { kind: 'noSuitableStage', candidates: 1 } });

    repo.git('merge', '-q', '--no-edit', 'feature');
    const merged = await build();
    expect(stage(merged, 'gitArchive')?.Status).toBe('reused');
    expect(stage(merged, 'gitArchive')?.StageID).toBe(stage(onFeature, 'gitArchive')?.StageID);
    expect(stage(merged, 'install')?.StageID).toBe(stage(onFeature, 'install')?.StageID);
    // The merge brought main.txt: it reaches the image as the latest patch.
    expect(stage(merged, 'gitLatestPatch')?.Status).toBe('built');
  });
});

describe('several stored stages of one digest', () => {
  /** Stores a copy of `record` under another timestamp, as another builder would have. */
  async function storeCopy(record: StageRecord, timestampMs: number): Promise<string> {
    const result = await primary.publish({ ...record, id: { digest: record.id.digest, timestampMs }, createdAtMs: timestampMs });
    expect(result.status).toBe('stored');
    return formatStageId({ digest: record.id.digest, timestampMs });
  }

  async function recordOf(result: BuildResult, name: string): Promise<StageRecord> {
    const found = (await primary.listStageIds(undefined)).find((id) => formatStageId(id) === stage(result, name)?.StageID);
    const record = found && (await primary.findStage(found));
    if (!record) throw new Error(`no stored ${name}`);
    return record;
  }

  it('uses the oldest, and ignores a candidate older than the stage selected for the previous stage', async () => {
    const first = await build();
    const from = await recordOf(first, 'from');
    const beforeInstall = await recordOf(first, 'beforeInstall');
    const olderFrom = await storeCopy(from, from.id.timestampMs - 10_000);
    await storeCopy(from, from.id.timestampMs + 10_000);
    // Older than the selected from (olderFrom): never a candidate, although it is the oldest of its digest.
    await storeCopy(beforeInstall, from.id.timestampMs - 20_000);
    const newerBeforeInstall = await storeCopy(beforeInstall, from.id.timestampMs - 5_000);

    const second = await build();
    expect(stage(second, 'from')?.StageID).toBe(olderFrom);
    expect(stage(second, 'beforeInstall')?.StageID).toBe(newerBeforeInstall);
    expect(statuses(second).every((s) => s.endsWith(':reused'))).toBe(true);
  });
});

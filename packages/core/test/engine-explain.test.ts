/** `engine.explain`: the dry run over a real git repository and in-memory stores. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ResolvedConfig } from '@strata/config';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { createEngine, formatDifference, type EngineStores, type ImageExplanation } from '@strata/core';
import { FakeExecutor, MemoryStageLock, MemoryStageStore } from '@strata/core/testing';
import { ScratchRepo } from './support/git-repo.js';

const CONFIG = (install = 'echo install') => `project: demo
configVersion: 1
---
image: base
from: alpine:3.18
shell:
  beforeInstall: [apk add curl]
---
image: app
fromImage: base
git:
- add: /
  to: /app
shell:
  install: [${install}]
docker:
  CMD: ["node", "server.js"]
`;

function config(text: string): ResolvedConfig {
  const result = parseConfig(text, { path: 'werf.yaml' });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

let repo: ScratchRepo;
let repository: GitRepository;

beforeEach(async () => {
  repo = new ScratchRepo();
  repo.write('server.js', 'console.log("hi")\n');
  repo.commit('initial');
  repository = await NativeGitRepository.open(repo.root);
});

afterEach(async () => {
  await repository.close();
  repo.dispose();
});

function engine(text: string, stores: EngineStores, executor = new FakeExecutor()) {
  return createEngine({ config: config(text), repository, stores, lock: new MemoryStageLock(), executor });
}

const decisions = (explanations: ImageExplanation[], image: string): string[] =>
  explanations
    .find((e) => e.image === image)
    ?.stages.map((s) => `${s.name}:${s.decision.kind}${s.decision.kind === 'build' ? `(${s.decision.reason.kind})` : ''}`) ?? [];

describe('engine.explain', () => {
  it('explains a first build without touching anything', async () => {
    const primary = new MemoryStageStore();
    const executor = new FakeExecutor();
    const explanations = await engine(CONFIG(), { primary }, executor).explain();
    expect(decisions(explanations, 'base')).toEqual(['from:build(nothingToCompare)', 'beforeInstall:build(previousRebuilt)']);
    expect(decisions(explanations, 'app')).toEqual([
      'from:build(nothingToCompare)', 'gitArchive:build(previousRebuilt)', 'install:build(previousRebuilt)', 'dockerInstructions:build(previousRebuilt)',
    ]);
    expect(explanations[0]?.stages[0]?.digest).toBe('3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a');
    expect(executor.calls).toEqual([]);
    expect(await primary.listStageIds(undefined)).toEqual([]);
  });

  it('predicts the digests a build then uses, and reuse afterwards', async () => {
    const primary = new MemoryStageStore();
    const before = await engine(CONFIG(), { primary }).explain();
    const built = await engine(CONFIG(), { primary }).build();
    for (const image of ['base', 'app']) {
      expect(before.find((e) => e.image === image)?.stages.map((s) => s.digest)).toEqual(built.report.Images[image]?.Stages.map((s) => s.Digest));
    }
    const after = await engine(CONFIG(), { primary }).explain();
    expect(decisions(after, 'app')).toEqual(['from:reuse', 'gitArchive:reuse', 'install:reuse', 'dockerInstructions:reuse']);
  });

  it('names the first input that changed since the stage built on the same previous stage', async () => {
    const primary = new MemoryStageStore();
    await engine(CONFIG(), { primary }).build();
    const explanations = await engine(CONFIG('echo changed'), { primary }).explain(['app']);
    expect(decisions(explanations, 'app')).toEqual([
      'from:reuse', 'gitArchive:reuse', 'install:build(inputsChanged)', 'dockerInstructions:build(previousRebuilt)',
    ]);
    const install = explanations.find((e) => e.image === 'app')?.stages[2];
    if (install?.decision.kind !== 'build' || install.decision.reason.kind !== 'inputsChanged') throw new Error('expected inputsChanged');
    const difference = install.decision.reason.difference;
    expect(difference).toBeDefined();
    if (!difference) return;
    expect(difference.kind).toBe('changed');
    expect(difference.path[0]).toBe('stage dependencies');
    expect(formatDifference(difference)).toContain('"echo changed"');
    expect(formatDifference(difference)).toContain('"echo install"');
  });

  it('says why stored stages of a sibling branch do not qualify', async () => {
    const primary = new MemoryStageStore();
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('f.txt', 'f\n');
    repo.commit('feature');
    await engine(CONFIG(), { primary }).build();
    repo.git('checkout', '-q', 'main');
    repo.write('m.txt', 'm\n');
    repo.commit('main');
    const explanations = await engine(CONFIG(), { primary }).explain(['app']);
    expect(decisions(explanations, 'app').slice(0, 2)).toEqual(['from:reuse', 'gitArchive:build(noSuitableStage)']);
  });

  it('reports copies from secondaries without copying', async () => {
    const other = new MemoryStageStore({ name: 'other' });
    await engine(CONFIG(), { primary: other }).build();
    const primary = new MemoryStageStore({ name: 'primary' });
    const explanations = await engine(CONFIG(), { primary, secondaries: [other] }).explain(['base']);
    expect(decisions(explanations, 'base')).toEqual(['from:copy', 'beforeInstall:copy']);
    expect(await primary.listStageIds(undefined)).toEqual([]);
  });

  it('stops where a stage needs files of an image that would be rebuilt', async () => {
    const text = `project: demo
configVersion: 1
---
artifact: tool
from: alpine:3.18
shell:
  install: [make]
---
image: app
from: alpine:3.18
shell:
  install: [echo app]
import:
- artifact: tool
  add: /out
  after: install
---
image: web
fromImage: app
`;
    const explanations = await engine(text, { primary: new MemoryStageStore() }).explain();
    const app = explanations.find((e) => e.image === 'app');
    expect(app?.stages.map((s) => s.name)).toEqual(['from', 'install']);
    expect(app?.incomplete).toBe('stage dependenciesAfterInstall needs image tool, which would be rebuilt first');
    expect(explanations.find((e) => e.image === 'web')?.incomplete).toBe('stage from needs image app, which would be rebuilt first');
  });
});

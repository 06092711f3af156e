/** `engine.explain`: the dry run over a real git repository and in-memory stores. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ResolvedConfig } from '@strata/config';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { createEngine, formatDifference, type BuildResult, type EngineStores, type ImageExplanation } from '@strata/core';
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
    expect(app?.pending).toEqual({ stage: 'dependenciesAfterInstall', reason: { kind: 'upstreamToBeBuilt', image: 'tool', stage: 'install' } });
    expect(app?.incomplete).toBe('stage dependenciesAfterInstall needs image tool, whose stage install would be built first');
    expect(explanations.find((e) => e.image === 'web')?.incomplete).toBe('stage from needs image app, whose stage dependenciesAfterInstall would be built first');
  });
});

describe('engine.plan', () => {
  const PLAN_CONFIG = `${CONFIG()}---
artifact: tool
from: alpine:3.18
git:
- add: /
  to: /src
  stageDependencies:
    install: ['*.js']
shell:
  install: [make tool]
---
image: worker
fromImage: app
import:
- artifact: tool
  add: /out/tool
  to: /usr/bin/tool
  before: setup
shell:
  setup: [echo worker]
---
image: web
fromImage: base
dependencies:
- image: app
  after: install
  imports:
  - type: ImageName
    targetEnv: APP_IMAGE
shell:
  install: [echo web]
`;
  const digests = (images: readonly ImageExplanation[], image: string) => images.find((e) => e.image === image)?.stages.map((s) => `${s.name}:${s.digest}`);
  const used = (result: BuildResult, image: string) => result.report.Images[image]?.Stages.map((s) => `${s.Name}:${s.Digest}`);

  it('computes every digest knowable without building, marks the rest, and calls no executor', async () => {
    const primary = new MemoryStageStore();
    const executor = new FakeExecutor();
    const { plan, text, images } = await engine(PLAN_CONFIG, { primary }, executor).plan();
    expect(executor.calls).toEqual([]);
    expect(await primary.listStageIds(undefined)).toEqual([]);
    expect(plan.sets.map((set) => set.map((node) => node.name))).toEqual([['base', 'tool'], ['app'], ['worker', 'web']]);
    expect(text).toContain('│ Set #2:');
    expect(images.map((i) => i.image)).toEqual(['base', 'tool', 'app', 'worker', 'web']);
    const base = images.find((i) => i.image === 'base');
    expect(base?.stages[0]?.digest).toBe('3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a');
    expect(base?.pending).toBeUndefined();
    // Knowable although built upstream first: fromImage needs only the content digest a build would give.
    const app = images.find((i) => i.image === 'app');
    expect(app?.stages.map((s) => `${s.name}:${s.decision.kind}`)).toEqual(['from:build', 'gitArchive:build', 'install:build', 'dockerInstructions:build']);
    expect(app?.pending).toBeUndefined();
    // A dependency's image name exists only once app is built; an import's checksum needs the executor.
    const web = images.find((i) => i.image === 'web');
    expect(web?.stages.map((s) => s.name)).toEqual(['from', 'install']);
    expect(web?.pending).toEqual({ stage: 'dependenciesAfterInstall', reason: { kind: 'upstreamToBeBuilt', image: 'app', stage: 'dockerInstructions' } });
    const worker = images.find((i) => i.image === 'worker');
    expect(worker?.stages.map((s) => s.name)).toEqual(['from']);
    expect(worker?.pending).toEqual({ stage: 'dependenciesBeforeSetup', reason: { kind: 'upstreamToBeBuilt', image: 'tool', stage: 'install' } });
  });

  it('plan() digests equal the digests a real build then uses', async () => {
    const primary = new MemoryStageStore();
    const executor = new FakeExecutor();
    const planned = (await engine(PLAN_CONFIG, { primary }, executor).plan()).images;
    const built = await engine(PLAN_CONFIG, { primary }, executor).build();
    for (const image of ['base', 'tool', 'app']) expect(digests(planned, image)).toEqual(used(built, image));
    for (const image of ['worker', 'web']) {
      const known = digests(planned, image) ?? [];
      expect(known.length).toBeGreaterThan(0);
      expect(used(built, image)?.slice(0, known.length)).toEqual(known);
    }

    // Everything stored: a dependency's image name is known now; an import's checksum still needs the executor.
    const settled = (await engine(PLAN_CONFIG, { primary }, executor).plan()).images;
    expect(settled.find((i) => i.image === 'web')?.stages.map((s) => `${s.name}:${s.decision.kind}`)).toEqual([
      'from:reuse', 'install:reuse', 'dependenciesAfterInstall:reuse',
    ]);
    expect(digests(settled, 'web')).toEqual(used(built, 'web'));
    expect(settled.find((i) => i.image === 'worker')?.pending).toEqual({ stage: 'dependenciesBeforeSetup', reason: { kind: 'importChecksum', image: 'tool' } });

    // After a commit: stages whose inputs moved are planned for building, with the digests the build uses.
    repo.write('server.js', 'console.log("changed")\n');
    repo.commit('change');
    const calls = executor.calls.length;
    const again = (await engine(PLAN_CONFIG, { primary }, executor).plan()).images;
    expect(executor.calls.length).toBe(calls);
    expect(again.find((i) => i.image === 'app')?.stages.map((s) => `${s.name}:${s.decision.kind}`)).toEqual([
      'from:reuse', 'gitArchive:reuse', 'install:reuse', 'gitLatestPatch:build', 'dockerInstructions:build',
    ]);
    // tool's install depends on *.js: rebuilt, so worker's import waits for it.
    expect(again.find((i) => i.image === 'tool')?.stages.map((s) => `${s.name}:${s.decision.kind}`)).toEqual([
      'from:reuse', 'gitArchive:reuse', 'install:build',
    ]);
    expect(again.find((i) => i.image === 'worker')?.pending?.reason).toEqual({ kind: 'upstreamToBeBuilt', image: 'tool', stage: 'install' });
    const rebuilt = await engine(PLAN_CONFIG, { primary }, executor).build();
    for (const image of ['base', 'tool', 'app']) expect(digests(again, image)).toEqual(used(rebuilt, image));
  });
});

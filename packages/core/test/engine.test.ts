/**
 * The engine end to end over a REAL git repository (temp dir, git CLI), the in-memory stores and lock,
 * and the fake executor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ResolvedConfig } from '@strata/config';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { DIGEST_INPUTS_LABEL, createEngine, importChecksumLabel, decodeInputsRecord, systemClock, type BuildEvent, type BuildResult, type EngineOptions, type StageStore } from '@strata/core';
import { FakeExecutor, MemoryStageBackend, MemoryStageLock, MemoryStageStore } from '@strata/core/testing';
import { ScratchRepo } from './support/git-repo.js';

const CONFIG = `project: demo
configVersion: 1
---
image: base
from: alpine:3.18
shell:
  beforeInstall:
  - apk add curl
---
image: app
fromImage: base
git:
- add: /
  to: /app
shell:
  install:
  - echo install
docker:
  CMD: ["node", "server.js"]
`;

function config(text = CONFIG): ResolvedConfig {
  const result = parseConfig(text, { path: 'werf.yaml' });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

let repo: ScratchRepo;
let repository: GitRepository;

beforeEach(async () => {
  repo = new ScratchRepo();
  repo.write('server.js', 'console.log("hi")\n').write('README.md', 'demo\n');
  repo.commit('initial');
  repository = await NativeGitRepository.open(repo.root);
});

afterEach(async () => {
  await repository.close();
  repo.dispose();
});

function engineWith(overrides: Partial<EngineOptions> & { primary?: StageStore } = {}) {
  const executor = (overrides.executor as FakeExecutor | undefined) ?? new FakeExecutor();
  const primary = overrides.primary ?? new MemoryStageStore({ name: 'primary' });
  const engine = createEngine({
    config: config(),
    repository,
    stores: { primary },
    lock: new MemoryStageLock(),
    clock: systemClock,
    ...overrides,
    executor,
  });
  return { engine, executor, primary };
}

const statuses = (result: BuildResult, image: string): string[] =>
  result.report.Images[image]?.Stages.map((s) => `${s.Name}:${s.Status}`) ?? [];

describe('engine', () => {
  it('builds every stage once, then reuses them all', async () => {
    const { engine, executor, primary } = engineWith();
    const first = await engine.build();
    expect(statuses(first, 'base')).toEqual(['from:built', 'beforeInstall:built']);
    expect(statuses(first, 'app')).toEqual(['from:built', 'gitArchive:built', 'install:built', 'dockerInstructions:built']);
    // SPEC §2.2 check values: the digests werf gives for this base image.
    const base = first.report.Images.base;
    expect(base?.Stages[0]?.Digest).toBe('3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a');
    expect(base?.Stages[1]?.Digest).toBe('c5d227c3a88e1180c887beeeb91af88865af7e6e05c014b4ae9fd959');
    expect(base?.Rebuilt).toBe(true);
    expect(base?.DockerImageName).toBe(`memory/primary:${base?.Stages[1]?.StageID}`);
    expect(base?.DockerTag).toBe(base?.Stages[1]?.StageID);
    expect(base?.Commit).toBe(repo.git('rev-parse', 'HEAD'));
    expect(executor.calls).toHaveLength(6);

    const again = createEngine({ config: config(), repository, stores: { primary }, lock: new MemoryStageLock(), executor });
    const second = await again.build();
    expect(statuses(second, 'app')).toEqual(['from:reused', 'gitArchive:reused', 'install:reused', 'dockerInstructions:reused']);
    expect(second.report.Images.app?.Rebuilt).toBe(false);
    expect(second.report.Images.app?.DockerImageName).toBe(first.report.Images.app?.DockerImageName);
    expect(executor.calls).toHaveLength(6);
  });

  it('hands the executor what it needs: base images, commands, git mappings, labels', async () => {
    const { engine, executor } = engineWith();
    const result = await engine.build();
    const head = result.commit;
    const requests = Object.fromEntries(executor.calls.map((r) => [`${r.image}/${r.stage}`, r]));
    expect(requests['base/from']).toMatchObject({ kind: 'from', base: { kind: 'external', ref: 'alpine:3.18' } });
    const baseImage = result.report.Images.base?.DockerImageName;
    expect(requests['app/from']).toMatchObject({ kind: 'from', base: { kind: 'stage', image: 'base', imageRef: baseImage } });
    expect(requests['app/gitArchive']).toMatchObject({ kind: 'gitArchive', mappings: [{ add: '/', to: '/app', commit: head }] });
    expect(requests['app/install']).toMatchObject({ kind: 'shell', commands: ['echo install'], gitPatches: [] });
    expect(requests['app/dockerInstructions']).toMatchObject({ kind: 'dockerInstructions', instructions: { cmd: ['node', 'server.js'] } });
    const archiveStage = result.report.Images.app?.Stages[1];
    expect(requests['app/install']).toMatchObject({ baseImageRef: `memory/primary:${archiveStage?.StageID}` });
    expect(requests['app/gitArchive']?.labels).toMatchObject({ werf: 'demo', 'werf-project-repo-commit': head });
    expect(Object.entries(requests['app/gitArchive']?.labels ?? {}).some(([k, v]) => /^werf-git-[0-9a-f]{64}-commit$/.test(k) && v === head)).toBe(true);
    // Built stages record their digest inputs for `explain`.
    const record = decodeInputsRecord(requests['app/install']?.labels[DIGEST_INPUTS_LABEL] ?? '');
    expect(record?.inputs.map((node) => node.l)).toContain('stage dependencies');
    expect(result.images.find((i) => i.image === 'app')?.stages[2]?.inputs?.length).toBeGreaterThan(0);
  });

  it('reuses git stages along history and patches forward', async () => {
    const { engine, executor, primary } = engineWith();
    const first = await engine.build(['app']);
    repo.write('server.js', 'console.log("changed")\n');
    const second = repo.commit('change');
    const result = await engine.build(['app']);
    expect(statuses(result, 'app')).toEqual([
      'from:reused', 'gitArchive:reused', 'install:reused', 'gitLatestPatch:built', 'dockerInstructions:built',
    ]);
    const patch = executor.calls.find((r) => r.stage === 'gitLatestPatch');
    expect(patch).toMatchObject({ kind: 'gitPatch', patches: [{ fromCommit: first.commit, toCommit: second, to: '/app' }] });
    const patchRecord = await primary.findStage(
      (await primary.listStageIds(undefined)).find((id) => id.digest === result.report.Images.app?.Stages[3]?.Digest) ?? { digest: '' as never, timestampMs: 0 },
    );
    expect(Object.values(patchRecord?.commits ?? {})).toEqual([second]);
  });

  it('never reuses a git stage recorded on a sibling branch', async () => {
    const { engine } = engineWith();
    const root = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('feature.txt', 'f\n');
    repo.commit('feature');
    const onFeature = await engine.build(['app']);
    repo.git('checkout', '-q', 'main');
    repo.write('main.txt', 'm\n');
    repo.commit('main work');
    expect(repo.git('merge-base', 'main', 'feature')).toBe(root);
    const onMain = await engine.build(['app']);
    const archive = (r: BuildResult) => r.report.Images.app?.Stages.find((s) => s.Name === 'gitArchive');
    expect(archive(onMain)?.Digest).toBe(archive(onFeature)?.Digest);
    expect(archive(onMain)?.Status).toBe('built');
    expect(archive(onMain)?.StageID).not.toBe(archive(onFeature)?.StageID);
    expect(statuses(onMain, 'app')[0]).toBe('from:reused');
  });

  it('builds a digest shared by two images once (single-flight)', async () => {
    const text = `project: demo
configVersion: 1
---
image: one
from: alpine:3.18
shell:
  beforeInstall: [echo one]
---
image: two
from: alpine:3.18
shell:
  beforeInstall: [echo two]
`;
    const executor = new FakeExecutor({ onBuild: () => systemClock.sleep(5) });
    const { engine } = engineWith({ config: config(text), executor });
    const result = await engine.build();
    expect(executor.calls.filter((r) => r.stage === 'from')).toHaveLength(1);
    expect(result.report.Images.one?.Stages[0]?.StageID).toBe(result.report.Images.two?.Stages[0]?.StageID);
    // Both images waited on the same in-flight build: one built it, the other reuses what it saved.
    expect([result.report.Images.one?.Stages[0]?.Status, result.report.Images.two?.Stages[0]?.Status].sort()).toEqual(['built', 'reused']);
    expect([result.report.Images.one?.Rebuilt, result.report.Images.two?.Rebuilt]).toEqual([true, true]);
  });

  it('lets eight concurrent builders on one store save each stage exactly once, with identical images', async () => {
    const backend = new MemoryStageBackend();
    const lock = new MemoryStageLock();
    const BUILDERS = 8;
    // Every builder builds base/from before any saves it (a forced race): the lock protocol must discard
    // seven results. Later stages race freely, with a different pace per builder.
    let arrived = 0;
    let openBarrier: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (openBarrier = resolve));
    const stores = Array.from({ length: BUILDERS }, () => new MemoryStageStore({ backend, name: 'shared', snapshotListings: true }));
    const builders = stores.map((primary, n) =>
      createEngine({
        config: config(),
        repository,
        stores: { primary },
        lock,
        executor: new FakeExecutor({
          onBuild: async (request) => {
            if (request.image === 'base' && request.stage === 'from') {
              arrived += 1;
              if (arrived === BUILDERS) openBarrier();
              await barrier;
            }
            await systemClock.sleep(((n * 7) % BUILDERS) + 1);
          },
        }),
      }),
    );
    const results = await Promise.all(builders.map((engine) => engine.build()));
    const digests = [...backend.stages.values()].map((r) => r.id.digest);
    expect(new Set(digests).size).toBe(digests.length);
    expect(digests).toHaveLength(6);
    for (const image of ['base', 'app']) {
      const finals = results.map((r) => r.report.Images[image]?.DockerImageName);
      expect(finals.every((name) => name !== undefined && name === finals[0])).toBe(true);
      const stageIds = results.map((r) => r.report.Images[image]?.Stages.map((s) => s.StageID).join());
      expect(new Set(stageIds).size).toBe(1);
    }
    const baseFrom = results.map((r) => r.report.Images.base?.Stages[0]);
    expect(baseFrom.map((s) => s?.Status).sort()).toEqual(['built', ...Array<string>(BUILDERS - 1).fill('discarded')]);
    // The discarded builders use the stored stage, not their own image.
    const stored = [...backend.stages.values()].find((r) => r.id.digest === baseFrom[0]?.Digest);
    expect(baseFrom.every((s) => s?.DockerImageName === stored?.imageRef)).toBe(true);
    expect(stores.reduce((n, store) => n + store.transfers.length, 0)).toBe(6);
  });

  it('bounds copies from a secondary by parallelTasksLimit too', async () => {
    const sixImages = ['project: demo', 'configVersion: 1', ...Array.from({ length: 6 }, (_, i) => `---\nimage: i${i}\nfrom: alpine:3.1${i}`)].join('\n');
    const other = engineWith({ config: config(sixImages), primary: new MemoryStageStore({ name: 'other-installation' }) });
    await other.engine.build();
    const inner = new MemoryStageStore({ name: 'primary' });
    let running = 0;
    let max = 0;
    const primary: StageStore = {
      name: inner.name,
      listStageIds: (digest, options) => inner.listStageIds(digest, options),
      findStage: (id, options) => inner.findStage(id, options),
      publish: async (record, options) => {
        running += 1;
        max = Math.max(max, running);
        try {
          await systemClock.sleep(5);
          return await inner.publish(record, options);
        } finally {
          running -= 1;
        }
      },
    };
    const engine = createEngine({ config: config(sixImages), repository, stores: { primary, secondaries: [other.primary] }, lock: new MemoryStageLock(), executor: new FakeExecutor(), parallelTasksLimit: 2 });
    const result = await engine.build();
    expect(result.images.flatMap((image) => image.stages.map((stage) => stage.status))).toEqual(Array(6).fill('copied'));
    expect(max).toBe(2);
  });

  it('copies stages from a secondary store instead of building', async () => {
    const other = engineWith({ primary: new MemoryStageStore({ name: 'other-installation' }) });
    await other.engine.build();
    const primary = new MemoryStageStore({ name: 'primary' });
    const executor = new FakeExecutor();
    const engine = createEngine({ config: config(), repository, stores: { primary, secondaries: [other.primary] }, lock: new MemoryStageLock(), executor });
    const result = await engine.build();
    expect(executor.calls).toEqual([]);
    expect(statuses(result, 'app').every((s) => s.endsWith(':copied'))).toBe(true);
    const copied = (await primary.listStageIds(undefined)).length;
    expect(copied).toBe(6);
  });

  it('publishes to caches and sends final images to the final store', async () => {
    const cache = new MemoryStageStore({ name: 'cache' });
    const final = new MemoryStageStore({ name: 'final' });
    const text = `${CONFIG}---
artifact: tool
from: alpine:3.18
shell:
  install: [make tool]
`;
    const { engine } = engineWith({ config: config(text), stores: { primary: new MemoryStageStore({ name: 'primary' }), caches: [cache], final } });
    const result = await engine.build();
    expect((await cache.listStageIds(undefined)).length).toBe(7);
    const finalIds = (await final.listStageIds(undefined)).map((id) => `${id.digest}-${id.timestampMs}`).sort();
    expect(finalIds).toEqual([result.report.Images.base?.DockerTag, result.report.Images.app?.DockerTag].sort());
    expect(result.report.Images.tool?.Final).toBe(false);

    // Another installation sharing only the cache: every stage comes from the cache (SPEC §4.5 `copied`).
    const elsewhere = new MemoryStageStore({ name: 'elsewhere' });
    const executor = new FakeExecutor();
    const fromCache = await createEngine({
      config: config(text), repository, stores: { primary: elsewhere, caches: [cache] }, lock: new MemoryStageLock(), executor,
    }).build();
    expect(executor.calls).toEqual([]);
    expect(statuses(fromCache, 'app').every((s) => s.endsWith(':copied'))).toBe(true);
    expect((await elsewhere.listStageIds(undefined)).length).toBe(7);
  });

  it('imports files by content: an upstream rebuild with identical output does not cascade', async () => {
    const text = (toolVersion: string) => `project: demo
configVersion: 1
---
artifact: tool
from: alpine:3.18
cacheVersion: "${toolVersion}"
shell:
  install: [make tool]
---
image: app
from: alpine:3.18
import:
- artifact: tool
  add: /out/tool
  to: /usr/bin/tool
  after: install
shell:
  install: [echo app]
`;
    const primary = new MemoryStageStore({ name: 'primary' });
    const executor = new FakeExecutor({ importContent: (request) => `${request.add} same bytes` });
    const first = await createEngine({ config: config(text('1')), repository, stores: { primary }, lock: new MemoryStageLock(), executor }).build();
    const request = executor.calls.find((r) => r.stage === 'dependenciesAfterInstall');
    expect(request).toMatchObject({
      kind: 'dependencies',
      imports: [{ sourceImage: 'tool', sourceImageRef: first.report.Images.tool?.DockerImageName, add: '/out/tool', to: '/usr/bin/tool' }],
    });
    // werf's label naming: werf-import-checksum-<getImportID>, holding the checksum the executor computed.
    const app = config(text('1')).images.find((image) => image.key === 'app');
    const entry = app?.kind === 'stapel' ? app.imports[0] : undefined;
    if (!entry) throw new Error('expected an import');
    const checksum = await executor.importChecksum({ sourceImageRef: first.report.Images.tool?.DockerImageName ?? '', add: '/out/tool', includePaths: [], excludePaths: [], command: '' });
    expect(request?.labels[importChecksumLabel(entry)]).toBe(checksum);
    expect(Object.keys(request?.labels ?? {}).filter((k) => k.startsWith('werf-import-checksum-'))).toEqual([importChecksumLabel(entry)]);

    const second = await createEngine({ config: config(text('2')), repository, stores: { primary }, lock: new MemoryStageLock(), executor }).build();
    expect(statuses(second, 'tool')).toEqual(['from:built', 'install:built']);
    expect(statuses(second, 'app')).toEqual(['from:reused', 'install:reused', 'dependenciesAfterInstall:reused']);
  });

  it('builds Dockerfile images with dependency build args', async () => {
    repo.write('Dockerfile', 'FROM alpine:3.18\nARG BASE\nRUN echo $BASE\n');
    repo.commit('dockerfile');
    const text = `${CONFIG}---
image: web
dockerfile: Dockerfile
dependencies:
- image: base
  imports:
  - type: ImageName
    targetBuildArg: BASE
`;
    const { engine, executor } = engineWith({ config: config(text) });
    const result = await engine.build(['web']);
    const request = executor.calls.find((r) => r.image === 'web');
    expect(request).toMatchObject({ kind: 'dockerfile', dockerfile: 'Dockerfile', context: '.', buildArgs: { BASE: result.report.Images.base?.DockerImageName } });
    expect(statuses(result, 'web')).toEqual(['dockerfile:built']);
  });

  describe('parallelTasksLimit bounds executor calls, not lookups', () => {
    const sixImages = ['project: demo', 'configVersion: 1', ...Array.from({ length: 6 }, (_, i) => `---\nimage: i${i}\nfrom: alpine:3.1${i}\nshell:\n  beforeInstall: [echo ${i}]`)].join('\n');

    /** A store whose every listing takes a few ms and counts how many run at once. */
    function countingStore(): { store: StageStore; maxListings: () => number } {
      const inner = new MemoryStageStore({ name: 'primary' });
      let running = 0;
      let max = 0;
      const store: StageStore = {
        name: inner.name,
        listStageIds: async (digest, options) => {
          running += 1;
          max = Math.max(max, running);
          try {
            await systemClock.sleep(5);
            return await inner.listStageIds(digest, options);
          } finally {
            running -= 1;
          }
        },
        findStage: (id, options) => inner.findStage(id, options),
        publish: (record, options) => inner.publish(record, options),
      };
      return { store, maxListings: () => max };
    }

    it('runs at most the limit of builds at once', async () => {
      let running = 0;
      let max = 0;
      const executor = new FakeExecutor({
        onBuild: async () => {
          running += 1;
          max = Math.max(max, running);
          await systemClock.sleep(5);
          running -= 1;
        },
      });
      const { engine } = engineWith({ config: config(sixImages), executor, parallelTasksLimit: 2 });
      await engine.build();
      expect(executor.built).toHaveLength(12);
      expect(max).toBe(2);
    });

    it('looks up every ready image at once in a no-op build, whatever the limit', async () => {
      const { store, maxListings } = countingStore();
      const first = engineWith({ config: config(sixImages), primary: store, parallelTasksLimit: 1 });
      await first.engine.build();
      const again = engineWith({ config: config(sixImages), primary: store, parallelTasksLimit: 1 });
      const result = await again.engine.build();
      expect(again.executor.calls).toHaveLength(0);
      expect(result.images.flatMap((image) => image.stages.map((stage) => stage.status))).toEqual(Array(12).fill('reused'));
      expect(maxListings()).toBeGreaterThanOrEqual(6);
    });

    it('starts no build after a failure, still lets the running ones finish, and names the failing image', async () => {
      const started: string[] = [];
      const executor = new FakeExecutor({
        onBuild: async (request) => {
          started.push(`${request.image}/${request.stage}`);
          if (request.image === 'i0') throw new Error('exit status 3');
          await systemClock.sleep(20);
        },
      });
      const { engine } = engineWith({ config: config(sixImages), executor, parallelTasksLimit: 2 });
      const failure = await engine.build().then(() => undefined, (error: unknown) => error);
      expect(failure).toMatchObject({ code: 'BUILD_FAILED', data: { image: 'i0', stage: 'from' } });
      expect(String((failure as Error).message)).toContain('exit status 3');
      // The failing build and the one running beside it; the four images waiting for a slot never built.
      expect(started).toHaveLength(2);
      expect(executor.built).toHaveLength(1);
    });
  });

  it('reports the failing image and stage', async () => {
    const executor = new FakeExecutor({
      onBuild: (request) => {
        if (request.stage === 'install') throw new Error('exit status 2');
      },
    });
    const { engine } = engineWith({ executor });
    await expect(engine.build()).rejects.toMatchObject({ code: 'BUILD_FAILED', data: { image: 'app', stage: 'install' } });
    await expect(engine.build()).rejects.toThrow(/image app failed at stage install: .*exit status 2/);
  });

  it('emits plan, stage and image events', async () => {
    const events: BuildEvent[] = [];
    const { engine } = engineWith({ events: (e) => events.push(e) });
    await engine.build(['base']);
    expect(events.map((e) => (e.type === 'stageFinished' ? `${e.type}:${e.stage}:${e.status}` : e.type === 'stageStarted' ? `${e.type}:${e.stage}` : e.type))).toEqual([
      'plan', 'imageStarted', 'stageStarted:from', 'stageFinished:from:built', 'stageStarted:beforeInstall', 'stageFinished:beforeInstall:built', 'imageDone',
    ]);
    const plan = events[0];
    expect(plan?.type === 'plan' && plan.text).toContain('│ - ⛵ image base');
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const executor = new FakeExecutor({
      onBuild: async (_r, signal) => {
        controller.abort(new Error('cancelled by user'));
        await systemClock.sleep(1000, { signal });
      },
    });
    const { engine } = engineWith({ executor });
    await expect(engine.build(undefined, { signal: controller.signal })).rejects.toThrow('cancelled by user');
  });

  it('keys the nameless image as ~', async () => {
    const { engine } = engineWith({ config: config('project: demo\nconfigVersion: 1\n---\nimage: ~\nfrom: alpine:3.18\n') });
    const result = await engine.build();
    expect(Object.keys(result.report.Images)).toEqual(['~']);
    expect(result.report.Images['~']?.WerfImageName).toBe('~');
    expect((await engine.plan()).text).toContain('│ - ⛵ image ~');
  });

  it('prints the plan in the SPEC shape', async () => {
    const { engine } = engineWith();
    const { text } = await engine.plan();
    expect(text.split('\n')).toEqual([
      '┌ Concurrent builds plan (no more than 5 images at the same time)',
      '│ Set #0:',
      '│ - ⛵ image base',
      '│',
      '│ Set #1:',
      '│ - ⛵ image app',
      '└ Concurrent builds plan (no more than 5 images at the same time)',
    ]);
  });
});

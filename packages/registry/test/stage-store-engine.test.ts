/**
 * The repository organisation (SPEC §3.2) for real: the engine over a real git repository, with
 * primary, secondary, cache and final `RegistryStageStore`s in the registry of `scripts/services.sh`
 * (127.0.0.1:5000), and an executor that pushes tiny real images to a scratch repository. Skipped with
 * the reason locally when the registry is not running; failing under CI=true.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type ResolvedConfig } from '@strata/config';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { createEngine, formatStageId, parseStageId, type BuildResult, type EngineStores } from '@strata/core';
import { MemoryStageLock } from '@strata/core/testing';
import { RegistryClient, RegistryStageStore, TagListCache, parseImageReference, type Repository } from '@strata/registry';
import { REGISTRY, requireServices } from '../../../test/support/services.js';
import { ScratchRepo as TempGitRepo } from '../../core/test/support/git-repo.js';
import { RegistryTestExecutor } from './support/registry-executor.js';
import { uniqueRepository } from './support/stage-kit.js';

const PROJECT = 'strata-org';

// `tools` is not final: its stages must never reach the final repository.
const CONFIG = `project: ${PROJECT}
configVersion: 1
---
image: tools
final: false
from: alpine:3.18
shell:
  install:
  - make tools
---
image: app
fromImage: tools
git:
- add: /
  to: /app
shell:
  install:
  - echo install
docker:
  CMD: ["node", "server.js"]
`;

function config(): ResolvedConfig {
  const result = parseConfig(CONFIG, { path: 'werf.yaml' });
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

let repo: TempGitRepo;
let git: GitRepository;

beforeEach(async () => {
  repo = new TempGitRepo();
  repo.write('server.js', 'console.log("hi")\n');
  repo.commit('initial');
  git = await NativeGitRepository.open(repo.root);
});

afterEach(async () => {
  await git.close();
  repo.dispose();
});

/** One build's worth of parts: a fresh client (request counters) and one tag cache shared by every store. */
function buildKit() {
  const client = new RegistryClient();
  const tagCache = new TagListCache(client);
  const store = (repository: Repository) => new RegistryStageStore(repository, { client, tagCache, project: PROJECT });
  return { client, tagCache, store };
}

async function build(stores: EngineStores, executor: RegistryTestExecutor): Promise<BuildResult> {
  const engine = createEngine({ config: config(), repository: git, stores, lock: new MemoryStageLock(), executor });
  return engine.build();
}

const stageIdsOf = (result: BuildResult, image: string): string[] => result.report.Images[image]?.Stages.map((s) => s.StageID) ?? [];
const statusesOf = (result: BuildResult, image: string): string[] => result.report.Images[image]?.Stages.map((s) => s.Status) ?? [];

/** The tags of a repository, listed live by a client of its own. */
async function tagsOf(repository: Repository): Promise<string[]> {
  return new RegistryClient().listTags(repository);
}

describe('RegistryStageStore repository organisation on the engine', () => {
  it('copies secondary hits into the primary with the same stage id, fills the cache, and gives the final repo only final stages', async (ctx) => {
    await requireServices(ctx, 'registry');
    const scratch = uniqueRepository(REGISTRY, 'org-scratch');
    const primary = uniqueRepository(REGISTRY, 'org-primary');
    const secondary = uniqueRepository(REGISTRY, 'org-secondary');
    const cache = uniqueRepository(REGISTRY, 'org-cache');
    const final = uniqueRepository(REGISTRY, 'org-final');

    // Another installation built everything into what is our secondary.
    const other = buildKit();
    const otherExecutor = new RegistryTestExecutor(other.client, scratch);
    const seeded = await build({ primary: other.store(secondary) }, otherExecutor);
    expect([...statusesOf(seeded, 'tools'), ...statusesOf(seeded, 'app')].every((s) => s === 'built')).toBe(true);
    const secondaryTags = await tagsOf(secondary);
    const allIds = [...stageIdsOf(seeded, 'tools'), ...stageIdsOf(seeded, 'app')];
    expect(allIds).toHaveLength(6);
    expect(secondaryTags).toEqual([...allIds].sort());
    const secondaryDigests = await manifestDigests(secondary, secondaryTags);
    expect(otherExecutor.builds).toHaveLength(allIds.length);

    // Our build: nothing in the primary, a secondary hit for every stage.
    const kit = buildKit();
    const executor = new RegistryTestExecutor(kit.client, scratch);
    const result = await build(
      { primary: kit.store(primary), secondaries: [kit.store(secondary)], caches: [kit.store(cache)], final: kit.store(final) },
      executor,
    );
    expect(statusesOf(result, 'tools').every((s) => s === 'copied')).toBe(true);
    expect(statusesOf(result, 'app').every((s) => s === 'copied')).toBe(true);
    expect([...stageIdsOf(result, 'tools'), ...stageIdsOf(result, 'app')]).toEqual(allIds);
    expect(result.report.Images.app?.DockerImageName).toBe(`${primary.toString()}:${stageIdsOf(result, 'app').at(-1)}`);
    // Nothing was built, so nothing had to be pulled.
    expect(executor.builds).toEqual([]);
    expect(executor.pulls).toEqual([]);

    // The primary now holds every stage under the same id and the same manifest; the secondary is untouched.
    expect(await tagsOf(primary)).toEqual([...allIds].sort());
    expect(await manifestDigests(primary, secondaryTags)).toEqual(secondaryDigests);
    expect(await tagsOf(secondary)).toEqual(secondaryTags);
    expect(await manifestDigests(secondary, secondaryTags)).toEqual(secondaryDigests);
    // The cache got every new stage of the primary.
    expect(await tagsOf(cache)).toEqual([...allIds].sort());
    // The final repository holds only the last stage of the final image.
    expect(await tagsOf(final)).toEqual([stageIdsOf(result, 'app').at(-1)]);
    const finalRecord = await new RegistryStageStore(final, { client: new RegistryClient(), project: PROJECT }).findStage(parseStageId(stageIdsOf(result, 'app').at(-1) ?? ''));
    expect(finalRecord?.imageRef).toBe(`${final.toString()}:${stageIdsOf(result, 'app').at(-1)}`);
    expect(finalRecord?.repoDigest).toBe(secondaryDigests[secondaryTags.indexOf(stageIdsOf(result, 'app').at(-1) ?? '')]);

    // Request economy: one tag listing per repository (primary, cache, secondary; the final repo is
    // never listed), however many stages there are.
    expect(kit.client.stats.byOperation.listTags).toBe(3);
    expect(kit.tagCache.stats.listings).toBe(3);
  });

  it('fills an empty cache with stages read from the primary, and pulls nothing when everything is reused', async (ctx) => {
    await requireServices(ctx, 'registry');
    const scratch = uniqueRepository(REGISTRY, 'org-scratch');
    const primary = uniqueRepository(REGISTRY, 'org-primary');
    const cache = uniqueRepository(REGISTRY, 'org-cache');

    const first = buildKit();
    const firstExecutor = new RegistryTestExecutor(first.client, scratch);
    const built = await build({ primary: first.store(primary) }, firstExecutor);
    const allIds = [...stageIdsOf(built, 'tools'), ...stageIdsOf(built, 'app')];
    expect(allIds).toHaveLength(6);
    // The executor's images already carry the stage labels: publishing copied them as they are
    // (blobs mounted from the scratch repository), so each stage keeps the built manifest digest.
    const builtDigests = new Map(firstExecutor.results.map((r) => [r.request.digest as string, r.manifestDigest]));
    expect(await manifestDigests(primary, allIds)).toEqual(allIds.map((id) => builtDigests.get(id.split('-')[0] ?? '')));
    expect(first.client.stats.byOperation.mountBlob).toBeGreaterThan(0);
    // Building on a base stage "pulled" it from the primary, by its registry reference.
    expect(firstExecutor.pulls.length).toBeGreaterThan(0);
    for (const ref of firstExecutor.pulls) expect(parseImageReference(ref).repository.equals(primary)).toBe(true);
    // The primary listing was done once non-live, plus once live under the lock per built stage.
    expect(first.client.stats.byOperation.listTags).toBe(1 + allIds.length);

    const kit = buildKit();
    const executor = new RegistryTestExecutor(kit.client, scratch);
    const result = await build({ primary: kit.store(primary), caches: [kit.store(cache)] }, executor);
    expect([...statusesOf(result, 'tools'), ...statusesOf(result, 'app')].every((s) => s === 'reused')).toBe(true);
    expect([...stageIdsOf(result, 'tools'), ...stageIdsOf(result, 'app')]).toEqual(allIds);
    expect(executor.builds).toEqual([]);
    expect(executor.pulls).toEqual([]);
    expect(await tagsOf(cache)).toEqual([...allIds].sort());
    expect(kit.client.stats.byOperation.listTags).toBe(2);
  });

  it('treats a stage whose manifest was deleted from the registry as absent and rebuilds it', async (ctx) => {
    await requireServices(ctx, 'registry');
    const scratch = uniqueRepository(REGISTRY, 'org-scratch');
    const primary = uniqueRepository(REGISTRY, 'org-primary');
    const first = buildKit();
    const built = await build({ primary: first.store(primary) }, new RegistryTestExecutor(first.client, scratch));
    const appIds = stageIdsOf(built, 'app');
    const lastId = appIds.at(-1) ?? '';

    // This build's listing is taken while the stage still exists; then someone deletes its manifest.
    const kit = buildKit();
    const store = kit.store(primary);
    expect((await store.listStageIds(undefined)).map(formatStageId)).toContain(lastId);
    const deleter = new RegistryClient();
    const descriptor = await deleter.headManifest(primary.at(lastId));
    if (descriptor === undefined) throw new Error('the stage to delete is missing');
    expect(await deleter.deleteManifest(primary, descriptor.digest)).toBe(true);

    const executor = new RegistryTestExecutor(kit.client, scratch);
    const result = await build({ primary: store }, executor);
    expect(statusesOf(result, 'tools').every((s) => s === 'reused')).toBe(true);
    expect(statusesOf(result, 'app')).toEqual([...appIds.slice(0, -1).map(() => 'reused'), 'built']);
    const rebuilt = stageIdsOf(result, 'app').at(-1) ?? '';
    expect(rebuilt).not.toBe(lastId);
    expect(rebuilt.split('-')[0]).toBe(lastId.split('-')[0]);
    // Only the missing stage was built, on the previous stage pulled from the primary.
    expect(executor.builds.map((r) => r.stage)).toEqual([built.report.Images.app?.Stages.at(-1)?.Name]);
    expect(executor.pulls).toEqual([`${primary.toString()}:${appIds.at(-2)}`]);
    const tags = await tagsOf(primary);
    expect(tags).toContain(rebuilt);
    expect(tags).not.toContain(lastId);
    // The listing cache forgot the deleted stage.
    expect((await store.listStageIds(undefined)).map(formatStageId)).not.toContain(lastId);
  });
});

async function manifestDigests(repository: Repository, tags: readonly string[]): Promise<string[]> {
  const client = new RegistryClient();
  return Promise.all(
    tags.map(async (tag) => {
      const descriptor = await client.headManifest(repository.at(tag));
      if (descriptor === undefined) throw new Error(`${repository.toString()}:${tag} is missing`);
      return descriptor.digest;
    }),
  );
}


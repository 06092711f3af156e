/**
 * `RegistryStageStore` specifics beyond the port contract, against the registry of
 * `scripts/services.sh` (127.0.0.1:5000): tag naming and record fields, relabelling, listing economy,
 * forgetting deleted stages, foreign tags, cross-registry copies and local-image ingest. Skipped with
 * the reason locally when the registry is not running; failing under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStageId, stageId, stageLabels, type StageRecord } from '@strata/core';
import { testDigest } from '@strata/core/testing';
import {
  RegistryClient,
  RegistryError,
  RegistryStageStore,
  TagListCache,
  findImageLabels,
  isRegistryImageReference,
  parseImageReference,
  type ImageReference,
  type LocalImageIngest,
} from '@strata/registry';
import { REGISTRY, requireServices } from '../../../test/support/services.js';
import { findRegistryBinary, startRegistry, type RegistryProcess } from './support/registry-process.js';
import { pushTinyImage, uniqueRepository } from './support/stage-kit.js';

const PROJECT = 'strata-store';

function record(seed: string, timestampMs: number, imageRef: string, extra: Partial<StageRecord> = {}): StageRecord {
  const digest = testDigest(`${seed}-${Math.random()}`);
  const id = stageId(digest, timestampMs);
  const labels = stageLabels({ project: PROJECT, digest, contentDigest: `content-${seed}`, commits: {}, importChecksums: {} });
  return { id, project: PROJECT, contentDigest: `content-${seed}`, imageRef, commits: {}, importChecksums: {}, labels, createdAtMs: timestampMs, ...extra };
}

describe('isRegistryImageReference', () => {
  it('tells registry references from local images', () => {
    expect(isRegistryImageReference('127.0.0.1:5000/app/stages:abc-1')).toBe(true);
    expect(isRegistryImageReference('registry.example.com/app:tag')).toBe(true);
    expect(isRegistryImageReference('localhost/app:tag')).toBe(true);
    expect(isRegistryImageReference('sha256:' + 'a'.repeat(64))).toBe(false);
    expect(isRegistryImageReference('busybox:local')).toBe(false);
    expect(isRegistryImageReference('user/app:tag')).toBe(false);
    expect(isRegistryImageReference('myproject:' + 'a'.repeat(56) + '-1')).toBe(false);
    expect(isRegistryImageReference('Bad.Host/UPPER:tag')).toBe(false);
  });
});

describe('RegistryStageStore', () => {
  it('stores a stage as REPO:DIGEST-TS with its labels in the config, and reports the manifest digest', async (ctx) => {
    await requireServices(ctx, 'registry');
    const client = new RegistryClient();
    const repository = uniqueRepository(REGISTRY, 'store');
    const scratch = uniqueRepository(REGISTRY, 'store-src');
    const source = await pushTinyImage(client, scratch, 'plain', { labels: { 'org.example/keep': 'yes' } });
    const store = new RegistryStageStore(repository.toString(), { client, project: PROJECT });
    const published = record('naming', 1_700_000_000_042, source, { headCommit: 'f'.repeat(40) });

    const result = await store.publish(published);
    expect(result.status).toBe('stored');
    if (result.status !== 'stored') return;
    const tag = formatStageId(published.id);
    expect(result.stage.imageRef).toBe(`${repository.toString()}:${tag}`);
    expect(store.imageRef(published.id)).toBe(result.stage.imageRef);
    const head = await client.headManifest(repository.at(tag));
    expect(result.stage.repoDigest).toBe(head?.digest);
    expect(result.stage.repoDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.stage.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.stage.size).toBeGreaterThan(0);
    expect(result.stage.createdAtMs).toBe(1_700_000_000_042);
    // The config was relabelled: the stage labels added, the image's own labels kept.
    const labels = await findImageLabels(client, repository.at(tag));
    expect(labels).toMatchObject({ werf: PROJECT, 'werf-stage-digest': published.id.digest, 'werf-project-repo-commit': 'f'.repeat(40), 'org.example/keep': 'yes' });
    expect(head?.digest).not.toBe((await client.headManifest(parseImageReference(source)))?.digest);
    // The source image is untouched.
    expect(await findImageLabels(client, parseImageReference(source))).toEqual({ 'org.example/keep': 'yes' });

    const found = await new RegistryStageStore(repository, { client: new RegistryClient(), project: PROJECT }).findStage(published.id);
    expect(found).toEqual(result.stage);
  });

  it('lists one tag listing per repository, ignores foreign tags, and answers every digest from it', async (ctx) => {
    await requireServices(ctx, 'registry');
    const setup = new RegistryClient();
    const repository = uniqueRepository(REGISTRY, 'store');
    const a = record('a', 1_700_000_000_002, '');
    const b = record('b', 1_700_000_000_001, '');
    for (const r of [a, b]) await pushTinyImage(setup, repository, formatStageId(r.id), { labels: r.labels });
    await pushTinyImage(setup, repository, 'latest');
    await pushTinyImage(setup, repository, `${a.id.digest}-007`);

    const client = new RegistryClient();
    const tagCache = new TagListCache(client);
    const store = new RegistryStageStore(repository, { client, tagCache, project: PROJECT });
    const other = new RegistryStageStore(repository, { client, tagCache, project: PROJECT });
    expect(await store.listStageIds(undefined)).toEqual([b.id, a.id]);
    expect(await store.listStageIds(a.id.digest)).toEqual([a.id]);
    expect(await other.listStageIds(b.id.digest)).toEqual([b.id]);
    expect(client.stats.byOperation.listTags).toBe(1);
    expect(await store.listStageIds(a.id.digest, { live: true })).toEqual([a.id]);
    expect(client.stats.byOperation.listTags).toBe(2);
  });

  it('treats a deleted stage as absent and forgets it from the cached listing', async (ctx) => {
    await requireServices(ctx, 'registry');
    const setup = new RegistryClient();
    const repository = uniqueRepository(REGISTRY, 'store');
    const gone = record('gone', 1_700_000_000_001, '');
    const kept = record('kept', 1_700_000_000_002, '');
    for (const r of [gone, kept]) await pushTinyImage(setup, repository, formatStageId(r.id), { labels: r.labels, files: { [`${r.contentDigest}.txt`]: r.contentDigest } });

    const client = new RegistryClient();
    const store = new RegistryStageStore(repository, { client, project: PROJECT });
    expect(await store.listStageIds(undefined)).toEqual([gone.id, kept.id]);
    const descriptor = await setup.headManifest(repository.at(formatStageId(gone.id)));
    expect(await setup.deleteManifest(repository, descriptor?.digest ?? ('' as never))).toBe(true);

    expect(await store.findStage(gone.id)).toBeUndefined();
    expect(await store.listStageIds(undefined)).toEqual([kept.id]);
    expect(client.stats.byOperation.listTags).toBe(1);
    expect((await store.findStage(kept.id))?.contentDigest).toBe('content-kept');
  });

  it('refuses to overwrite a stage tag that holds a foreign image, and ignores it when finding', async (ctx) => {
    await requireServices(ctx, 'registry');
    const client = new RegistryClient();
    const repository = uniqueRepository(REGISTRY, 'store');
    const published = record('foreign', 1_700_000_000_001, await pushTinyImage(client, uniqueRepository(REGISTRY, 'store-src'), 'src'));
    // Another project's stage under the same tag.
    await pushTinyImage(client, repository, formatStageId(published.id), { labels: { ...published.labels, werf: 'someone-else' } });
    const store = new RegistryStageStore(repository, { client, project: PROJECT });
    expect(await store.findStage(published.id)).toBeUndefined();
    const error = await store.publish(published).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REGISTRY_NOT_A_STAGE');
    expect((await findImageLabels(client, repository.at(formatStageId(published.id))))?.werf).toBe('someone-else');
  });

  it('needs an ingest for local images', async (ctx) => {
    await requireServices(ctx, 'registry');
    const store = new RegistryStageStore(uniqueRepository(REGISTRY, 'store'), { client: new RegistryClient(), project: PROJECT });
    const error = await store.publish(record('local', 1, 'sha256:' + 'b'.repeat(64))).catch((e: unknown) => e);
    expect((error as RegistryError).code).toBe('REGISTRY_INGEST_UNAVAILABLE');
  });

  it('hands local images to the ingest, then relabels what it pushed', async (ctx) => {
    await requireServices(ctx, 'registry');
    const client = new RegistryClient();
    const repository = uniqueRepository(REGISTRY, 'store');
    const calls: { localRef: string; target: string }[] = [];
    // Stands in for `docker push`: the "local" image is an unlabelled tiny image.
    const ingest: LocalImageIngest = {
      async pushLocalImage(localRef: string, target: ImageReference) {
        calls.push({ localRef, target: target.toString() });
        await pushTinyImage(client, target.repository, target.tag ?? 'latest', { files: { 'local.txt': localRef }, pretty: true });
        const head = await client.headManifest(target);
        if (head === undefined) throw new Error('push failed');
        return { digest: head.digest };
      },
    };
    const store = new RegistryStageStore(repository, { client, project: PROJECT, ingest });
    const published = record('ingest', 1_700_000_000_005, 'sha256:' + 'c'.repeat(64));
    const result = await store.publish(published);
    expect(result.status).toBe('stored');
    const tag = formatStageId(published.id);
    expect(calls).toEqual([{ localRef: 'sha256:' + 'c'.repeat(64), target: `${repository.toString()}:${tag}` }]);
    expect(await findImageLabels(client, repository.at(tag))).toMatchObject({ werf: PROJECT, 'werf-stage-digest': published.id.digest });
    if (result.status === 'stored') expect(result.stage.repoDigest).toBe((await client.headManifest(repository.at(tag)))?.digest);
  });
});

describe('RegistryStageStore across registries', () => {
  let other: RegistryProcess | undefined;
  beforeAll(async () => {
    const binary = findRegistryBinary();
    if (binary !== undefined) other = await startRegistry(binary);
  });
  afterAll(async () => {
    await other?.stop();
  });

  it('copies a stage from another registry by streaming its blobs, keeping its manifest', async (ctx) => {
    await requireServices(ctx, 'registry');
    const second = other;
    if (second === undefined) {
      if (process.env.CI === 'true') throw new Error('CI=true and the docker-registry binary is missing');
      ctx.skip('needs the docker-registry binary for a second registry (apt-get install docker-registry)');
      return;
    }
    const client = new RegistryClient();
    const secondaryRepo = uniqueRepository(second.host, 'secondary');
    const stage = record('cross', 1_700_000_000_009, '');
    await pushTinyImage(client, secondaryRepo, formatStageId(stage.id), { labels: stage.labels });
    const secondary = new RegistryStageStore(secondaryRepo, { client, project: PROJECT });
    const found = await secondary.findStage(stage.id);
    expect(found).toBeDefined();
    if (found === undefined) return;

    const primaryRepo = uniqueRepository(REGISTRY, 'primary');
    const primary = new RegistryStageStore(primaryRepo, { client, project: PROJECT });
    const before = client.stats.byOperation;
    const result = await primary.publish(found);
    expect(result.status).toBe('stored');
    if (result.status === 'stored') {
      expect(result.stage.id).toEqual(stage.id);
      expect(result.stage.repoDigest).toBe(found.repoDigest);
      expect(result.stage.imageRef).toBe(`${primaryRepo.toString()}:${formatStageId(stage.id)}`);
    }
    const after = client.stats.byOperation;
    // Different registries: no mount attempt, the blobs went up.
    expect(after.mountBlob ?? 0).toBe(before.mountBlob ?? 0);
    expect((after.uploadBlob ?? 0) - (before.uploadBlob ?? 0)).toBeGreaterThan(0);
    expect((await primary.publish(found)).status).toBe('conflict');
  });
});

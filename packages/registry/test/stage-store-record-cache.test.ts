/**
 * The stage record cache of `RegistryStageStore`: the memory and file caches on their own (round trip,
 * corrupt / other-version / mismatched entries, atomic writes), and the store's request economy with
 * them against the registry of `scripts/services.sh` (127.0.0.1:5000): a warm cache makes no manifest
 * or blob request, an unlisted id makes none, a corrupt entry is re-fetched, and deletions are seen at
 * the next listing. Registry tests skip with the reason locally when it is not running; fail under CI=true.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStageId, stageId, stageLabels, type StageRecord } from '@strata/core';
import { testDigest } from '@strata/core/testing';
import { RegistryClient, RegistryStageStore, TagListCache, type Repository } from '@strata/registry';
import { FileStageRecordCache, MemoryStageRecordCache, defaultStageRecordCacheDir, type StageRecordCache } from '../src/stage-store.js';
import { REGISTRY, requireServices } from '../../../test/support/services.js';
import { pushTinyImage, uniqueRepository } from './support/stage-kit.js';

const PROJECT = 'strata-record-cache';
const REPO = '127.0.0.1:5000/some/stages';
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-record-cache-'));
  dirs.push(dir);
  return dir;
}

function record(seed: string, timestampMs: number, imageRef = '', contentDigest = `content-${seed}`): StageRecord {
  const digest = testDigest(`${seed}-${Math.random()}`);
  const id = stageId(digest, timestampMs);
  const labels = stageLabels({ project: PROJECT, digest, contentDigest, commits: {}, importChecksums: {} });
  return { id, project: PROJECT, contentDigest, imageRef, commits: {}, importChecksums: {}, labels, createdAtMs: timestampMs };
}

/** Requests other than tag listings. */
function perStageRequests(client: RegistryClient): number {
  return client.stats.total - (client.stats.byOperation.listTags ?? 0);
}

describe('MemoryStageRecordCache and FileStageRecordCache', () => {
  const caches: [string, () => StageRecordCache][] = [
    ['memory', () => new MemoryStageRecordCache()],
    ['file', () => new FileStageRecordCache(tempDir())],
  ];
  for (const [name, make] of caches) {
    it(`${name}: stores, finds and forgets per repository and stage id`, async () => {
      const cache = make();
      const stage = { ...record('a', 1_700_000_000_001, `${REPO}:x`), imageId: `sha256:${'1'.repeat(64)}`, repoDigest: `sha256:${'2'.repeat(64)}`, size: 42 };
      expect(await cache.find(REPO, stage.id)).toBeUndefined();
      await cache.store(REPO, stage);
      expect(await cache.find(REPO, stage.id)).toEqual({ ...stage, parentStageId: undefined, headCommit: undefined });
      expect(await cache.find(`${REPO}-other`, stage.id)).toBeUndefined();
      expect(await cache.find(REPO, stageId(stage.id.digest, stage.id.timestampMs + 1))).toBeUndefined();
      await cache.forget(REPO, stage.id);
      await cache.forget(REPO, stage.id);
      expect(await cache.find(REPO, stage.id)).toBeUndefined();
    });
  }

  it('file: lays entries out by registry and path, written whole (no temporary file left)', async () => {
    const dir = tempDir();
    const cache = new FileStageRecordCache(dir);
    const stage = record('layout', 1_700_000_000_001);
    await cache.store(REPO, stage);
    const file = path.join(dir, '127.0.0.1_5000', 'some', 'stages', `${formatStageId(stage.id)}.json`);
    expect(cache.fileOf(REPO, stage.id)).toBe(file);
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, tag: formatStageId(stage.id), labels: stage.labels });
    expect(new FileStageRecordCache().dir).toBe(defaultStageRecordCacheDir());
    expect(defaultStageRecordCacheDir()).toMatch(/[/\\]\.strata[/\\]cache[/\\]registry-records$/);
  });

  it('file: a corrupt, other-version or mismatched entry is a miss', async () => {
    const cache = new FileStageRecordCache(tempDir());
    const stage = record('corrupt', 1_700_000_000_001);
    const other = record('other', 1_700_000_000_002);
    const file = cache.fileOf(REPO, stage.id);
    await mkdir(path.dirname(file), { recursive: true });
    const valid = { version: 1, tag: formatStageId(stage.id), imageRef: 'x', createdAtMs: 1, labels: stage.labels };
    for (const text of [
      '{"version":1,"tag":',
      JSON.stringify({ ...valid, version: 2 }),
      JSON.stringify({ ...valid, tag: formatStageId(other.id) }),
      JSON.stringify({ ...valid, labels: { ...other.labels } }),
      JSON.stringify({ ...valid, labels: { werf: 1 } }),
      JSON.stringify({ ...valid, labels: {} }),
      JSON.stringify({ ...valid, size: 'big' }),
      'null',
    ]) {
      writeFileSync(file, text);
      expect(await cache.find(REPO, stage.id), text).toBeUndefined();
    }
    writeFileSync(file, JSON.stringify(valid));
    expect((await cache.find(REPO, stage.id))?.contentDigest).toBe('content-corrupt');
  });

  it('rejects with the reason once aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const stage = record('abort', 1);
    for (const cache of [new MemoryStageRecordCache(), new FileStageRecordCache(tempDir())]) {
      await expect(cache.find(REPO, stage.id, { signal: controller.signal })).rejects.toThrow('stop');
      await expect(cache.store(REPO, stage, { signal: controller.signal })).rejects.toThrow('stop');
    }
  });
});

describe('RegistryStageStore with a record cache', () => {
  /** Pushes stage images of `records` straight to `repository` (as another builder would have). */
  async function pushStages(repository: Repository, records: readonly StageRecord[]): Promise<void> {
    const setup = new RegistryClient();
    for (const r of records) await pushTinyImage(setup, repository, formatStageId(r.id), { labels: r.labels, files: { [`${r.contentDigest}.txt`]: r.contentDigest } });
  }

  function storeOver(repository: Repository, recordCache: StageRecordCache): { store: RegistryStageStore; client: RegistryClient } {
    const client = new RegistryClient();
    return { client, store: new RegistryStageStore(repository, { client, tagCache: new TagListCache(client), project: PROJECT, recordCache }) };
  }

  it('answers listed stages from a warm record cache with zero manifest or blob requests', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const stages = [record('w1', 1_700_000_000_001), record('w2', 1_700_000_000_002), record('w3', 1_700_000_000_003)];
    await pushStages(repository, stages);
    const recordCache = new FileStageRecordCache(tempDir());

    const cold = storeOver(repository, recordCache);
    const ids = await cold.store.listStageIds(undefined);
    const first = await Promise.all(ids.map((id) => cold.store.findStage(id)));
    expect(first.map((r) => r?.contentDigest)).toEqual(['content-w1', 'content-w2', 'content-w3']);
    expect(cold.client.stats.byOperation).toEqual({ listTags: 1, getManifest: 3, getBlob: 3 });

    // The next build: a new client and tag cache (another process), the same file cache.
    const warm = storeOver(repository, recordCache);
    const again = await Promise.all((await warm.store.listStageIds(undefined)).map((id) => warm.store.findStage(id)));
    expect(again).toEqual(first);
    expect(warm.client.stats.byOperation).toEqual({ listTags: 1 });
    expect(perStageRequests(warm.client)).toBe(0);
  });

  it('finds an unlisted id absent without a request, and reads one id once for concurrent finds', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const stage = record('u', 1_700_000_000_001);
    await pushStages(repository, [stage]);
    const { store, client } = storeOver(repository, new MemoryStageRecordCache());
    expect(await store.findStage(stageId(stage.id.digest, stage.id.timestampMs + 1))).toBeUndefined();
    expect(await store.findStage(record('never', 1).id)).toBeUndefined();
    expect(client.stats.byOperation).toEqual({ listTags: 1 });

    const found = await Promise.all([store.findStage(stage.id), store.findStage(stage.id), store.findStage(stage.id)]);
    expect(found.map((r) => r?.contentDigest)).toEqual(['content-u', 'content-u', 'content-u']);
    expect(client.stats.byOperation).toEqual({ listTags: 1, getManifest: 1, getBlob: 1 });
    expect(await store.findStage(stage.id)).toEqual(found[0]);
    expect(client.stats.total).toBe(3);
  });

  it('re-fetches a stage whose cache entry is corrupt, and repairs the entry', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const stage = record('c', 1_700_000_000_001);
    await pushStages(repository, [stage]);
    const recordCache = new FileStageRecordCache(tempDir());
    const expected = await storeOver(repository, recordCache).store.findStage(stage.id);
    expect(expected?.contentDigest).toBe('content-c');

    writeFileSync(recordCache.fileOf(repository.toString(), stage.id), '{"version":1,"tag":"trunc');
    const next = storeOver(repository, recordCache);
    expect(await next.store.findStage(stage.id)).toEqual(expected);
    expect(next.client.stats.byOperation).toEqual({ listTags: 1, getManifest: 1, getBlob: 1 });
    expect(await recordCache.find(repository.toString(), stage.id)).toEqual(expected);
  });

  it('publishing fills the cache: the stage is then found without a request, here and in the next build', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const recordCache = new FileStageRecordCache(tempDir());
    const setup = new RegistryClient();
    const source = await pushTinyImage(setup, uniqueRepository(REGISTRY, 'records-src'), 'src', { files: { 'p.txt': 'p' } });
    const publisher = storeOver(repository, recordCache);
    const published = await publisher.store.publish(record('p', 1_700_000_000_005, source));
    expect(published.status).toBe('stored');
    if (published.status !== 'stored') return;
    const requests = publisher.client.stats.total;
    expect(await publisher.store.findStage(published.stage.id)).toEqual(published.stage);
    expect(publisher.client.stats.total - requests).toBe(1); // the listing; no record read

    const next = storeOver(repository, recordCache);
    expect(await next.store.findStage(published.stage.id)).toEqual(published.stage);
    expect(next.client.stats.byOperation).toEqual({ listTags: 1 });
    // A fresh read (no cache) agrees with the cached record.
    expect(await storeOver(repository, new MemoryStageRecordCache()).store.findStage(published.stage.id)).toEqual(published.stage);
  });

  it('sees a deletion at the next listing, forgets the entry, and reads the tag again when it is relisted', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const stage = record('d', 1_700_000_000_001);
    await pushStages(repository, [stage]);
    const recordCache = new FileStageRecordCache(tempDir());
    const name = repository.toString();

    const warming = storeOver(repository, recordCache);
    expect((await warming.store.findStage(stage.id))?.contentDigest).toBe('content-d');
    const deleter = new RegistryClient();
    const descriptor = await deleter.headManifest(repository.at(formatStageId(stage.id)));
    expect(await deleter.deleteManifest(repository, descriptor?.digest ?? ('' as never))).toBe(true);

    // Deleted after this store's listing: answered from the cache (the deletion shows when the image
    // is used, or at the next listing); this is the documented window.
    expect((await warming.store.findStage(stage.id))?.contentDigest).toBe('content-d');
    expect(perStageRequests(warming.client)).toBe(2);

    // The next build lists without the tag: absent, no record read, and the entry is forgotten.
    const after = storeOver(repository, recordCache);
    expect(await after.store.findStage(stage.id)).toBeUndefined();
    expect(after.client.stats.byOperation).toEqual({ listTags: 1 });
    expect(await recordCache.find(name, stage.id)).toBeUndefined();

    // The tag comes back (here: other content under the same id, which Strata itself never writes).
    const relisted = { ...stage, contentDigest: 'content-d2', labels: { ...stage.labels, 'werf-stage-content-digest': 'content-d2' } };
    await pushStages(repository, [relisted]);
    const later = storeOver(repository, recordCache);
    expect((await later.store.findStage(stage.id))?.contentDigest).toBe('content-d2');
    expect(later.client.stats.byOperation).toEqual({ listTags: 1, getManifest: 1, getBlob: 1 });
  });

  it('lists ids oldest first, then by digest, per digest and in all, from the sorted listing', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const setup = new RegistryClient();
    const [d1, d2] = [testDigest(`order-1-${Math.random()}`), testDigest(`order-2-${Math.random()}`)].sort();
    if (d1 === undefined || d2 === undefined) throw new Error('two digests expected');
    // `…-9` sorts after `…-10` by code point: the order must come from the timestamps.
    const ids = [stageId(d2, 10), stageId(d2, 9), stageId(d1, 10), stageId(d1, 100), stageId(d2, 100)];
    for (const id of ids) await pushTinyImage(setup, repository, formatStageId(id));
    await pushTinyImage(setup, repository, `${d1}-x`);
    await pushTinyImage(setup, repository, `${d1}`);
    const { store, client } = storeOver(repository, new MemoryStageRecordCache());
    expect(await store.listStageIds(undefined)).toEqual([stageId(d2, 9), stageId(d1, 10), stageId(d2, 10), stageId(d1, 100), stageId(d2, 100)]);
    expect(await store.listStageIds(d1)).toEqual([stageId(d1, 10), stageId(d1, 100)]);
    expect(await store.listStageIds(d2)).toEqual([stageId(d2, 9), stageId(d2, 10), stageId(d2, 100)]);
    expect(await store.listStageIds(testDigest('none'))).toEqual([]);
    expect(client.stats.byOperation).toEqual({ listTags: 1 });
  });

  it('forgets a listed stage whose manifest is gone from both caches when it is read', async (ctx) => {
    await requireServices(ctx, 'registry');
    const repository = uniqueRepository(REGISTRY, 'records');
    const stage = record('g', 1_700_000_000_001);
    await pushStages(repository, [stage]);
    const recordCache = new FileStageRecordCache(tempDir());
    const { store, client } = storeOver(repository, recordCache);
    expect(await store.listStageIds(undefined)).toEqual([stage.id]);
    const descriptor = await client.headManifest(repository.at(formatStageId(stage.id)));
    expect(await client.deleteManifest(repository, descriptor?.digest ?? ('' as never))).toBe(true);
    expect(await store.findStage(stage.id)).toBeUndefined();
    expect(await store.listStageIds(undefined)).toEqual([]);
    expect(await recordCache.find(repository.toString(), stage.id)).toBeUndefined();
  });
});

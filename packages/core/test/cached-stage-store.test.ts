import { describe, expect, it } from 'vitest';
import { CachedStageStore, stageId, type StageStore } from '@strata/core';
import { MemoryStageBackend, MemoryStageStore, describeStageStoreContract, testDigest, testStageRecord } from '@strata/core/testing';

describeStageStoreContract('CachedStageStore over memory stores', () => {
  const primary = new MemoryStageBackend();
  const cache = new MemoryStageBackend();
  return {
    project: 'demo',
    client: () => new CachedStageStore(new MemoryStageStore({ backend: primary }), [new MemoryStageStore({ backend: cache, name: 'cache' })]),
    sourceImage: (name) => Promise.resolve(`src/${name}`),
  };
});

const D = testDigest('cached');

describe('CachedStageStore', () => {
  it('publishes to the primary and every cache', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    const caches = [new MemoryStageStore({ name: 'c1' }), new MemoryStageStore({ name: 'c2' })];
    const store = new CachedStageStore(primary, caches);
    const result = await store.publish(testStageRecord(D, 1, { imageRef: 'built' }));
    expect(result.status === 'stored' && result.stage.imageRef).toBe(`memory/primary:${D}-1`);
    for (const cache of caches) expect(cache.transfers).toEqual([{ id: `${D}-1`, from: 'built' }]);
  });

  it('reads caches first and copies a cache-only stage into the primary', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    const cache = new MemoryStageStore({ name: 'cache' });
    await cache.publish(testStageRecord(D, 1));
    const store = new CachedStageStore(primary, [cache]);
    expect(await store.listStageIds(D)).toEqual([stageId(D, 1)]);
    const found = await store.findStage(stageId(D, 1));
    expect(found?.imageRef).toBe(`memory/cache:${D}-1`);
    expect(primary.transfers).toEqual([{ id: `${D}-1`, from: `memory/cache:${D}-1` }]);
    expect(primary.calls.find).toBe(0);
  });

  it('fills caches with stages found in the primary', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    const cache = new MemoryStageStore({ name: 'cache' });
    await primary.publish(testStageRecord(D, 1));
    const store = new CachedStageStore(primary, [cache]);
    const found = await store.findStage(stageId(D, 1));
    expect(found?.imageRef).toBe(`memory/primary:${D}-1`);
    expect(await cache.listStageIds(D)).toEqual([stageId(D, 1)]);
  });

  it('never fails because of a cache', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    const broken: StageStore = {
      name: 'broken',
      listStageIds: () => Promise.reject(new Error('down')),
      findStage: () => Promise.reject(new Error('down')),
      publish: () => Promise.reject(new Error('down')),
    };
    const errors: string[] = [];
    const store = new CachedStageStore(primary, [broken], { onCacheError: (_e, cache, op) => errors.push(`${cache.name}:${op}`) });
    expect((await store.publish(testStageRecord(D, 1))).status).toBe('stored');
    expect(await store.listStageIds(D)).toEqual([stageId(D, 1)]);
    expect((await store.findStage(stageId(D, 1)))?.id).toEqual(stageId(D, 1));
    expect(errors).toEqual(['broken:publish', 'broken:list', 'broken:find', 'broken:publish']);
  });
});

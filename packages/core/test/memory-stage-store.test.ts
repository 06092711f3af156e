import { describe, expect, it } from 'vitest';
import { parseStageDigest, stageId } from '@strata/core';
import { MemoryStageBackend, MemoryStageStore, describeStageStoreContract } from '@strata/core/testing';

describeStageStoreContract('MemoryStageStore', () => {
  const backend = new MemoryStageBackend();
  return { project: 'demo', client: () => new MemoryStageStore({ backend }), sourceImage: (name) => Promise.resolve(`src/${name}`) };
});

describeStageStoreContract('MemoryStageStore with snapshot listings', () => {
  const backend = new MemoryStageBackend();
  return {
    project: 'demo',
    client: () => new MemoryStageStore({ backend, snapshotListings: true }),
    sourceImage: (name) => Promise.resolve(`src/${name}`),
  };
});

describe('MemoryStageStore', () => {
  const digest = parseStageDigest('ab'.repeat(28));

  it('answers listings from one snapshot until a live listing', async () => {
    const backend = new MemoryStageBackend();
    const a = new MemoryStageStore({ backend, snapshotListings: true });
    const b = new MemoryStageStore({ backend });
    await a.listStageIds(undefined);
    await a.listStageIds(digest);
    expect(a.calls).toMatchObject({ backendLists: 1, snapshotLists: 1 });
    const record = {
      id: stageId(digest, 5), project: 'p', contentDigest: 'c', imageRef: 'built', commits: {}, importChecksums: {}, labels: {}, createdAtMs: 5,
    };
    await b.publish(record);
    expect(await a.listStageIds(digest)).toEqual([]);
    expect(await a.listStageIds(digest, { live: true })).toEqual([record.id]);
    expect(a.calls.backendLists).toBe(2);
  });

  it('stores images under its own repository and records the transfer', async () => {
    const store = new MemoryStageStore({ name: 'primary', repository: 'localhost:5000/demo' });
    const result = await store.publish({
      id: stageId(digest, 7), project: 'p', contentDigest: 'c', imageRef: 'fake/img', commits: {}, importChecksums: {}, labels: {}, createdAtMs: 7,
    });
    expect(result.status === 'stored' && result.stage.imageRef).toBe(`localhost:5000/demo:${'ab'.repeat(28)}-7`);
    expect(store.transfers).toEqual([{ id: `${'ab'.repeat(28)}-7`, from: 'fake/img' }]);
  });
});

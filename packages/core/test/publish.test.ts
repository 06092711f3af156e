import { describe, expect, it } from 'vitest';
import {
  publishStage,
  stageId,
  stageLockKey,
  type AncestryOracle,
  type LockHandle,
  type PublishResult,
  type StageCandidate,
  type StageLock,
  type StageRecord,
  type StageStore,
} from '@strata/core';
import { ManualClock, MemoryStageLock, MemoryStageStore, testCommit, testDigest, testStageRecord } from '@strata/core/testing';

const D = testDigest('publish');
const yes: AncestryOracle = (commits) => Promise.resolve(new Map(commits.map((c) => [c, true])));
const no: AncestryOracle = (commits) => Promise.resolve(new Map(commits.map((c) => [c, false])));

function candidate(commit?: string): StageCandidate {
  const { id: _id, createdAtMs: _c, ...rest } = testStageRecord(D, 0, { commits: commit ? { m: commit } : {}, imageRef: 'fake/built' });
  return { ...rest, digest: D };
}

/** A lock that excludes nobody: shows what the protocol prevents. */
const noLock: StageLock = {
  acquire: (key) => {
    const controller = new AbortController();
    const handle: LockHandle = { key, token: 1, signal: controller.signal, isValid: () => true, release: () => Promise.resolve() };
    return Promise.resolve(handle);
  },
};

describe('publishStage', () => {
  it('saves under max(now, newest + 1) and releases the lock', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStageStore();
    await store.publish(testStageRecord(D, 5000, { commits: { m: testCommit('old') } }));
    const lock = new MemoryStageLock({ clock });
    const result = await publishStage(candidate(testCommit('new')), {
      store, lock, project: 'demo', clock, query: { digest: D, gitRelated: true }, ancestry: no,
    });
    expect(result.status).toBe('built');
    expect(result.stage.id).toEqual(stageId(D, 5001));
    expect(result.stage.createdAtMs).toBe(5001);
    const again = await lock.acquire(stageLockKey('demo', D));
    expect(again.isValid()).toBe(true);
  });

  it('adopts a suitable stage that appeared meanwhile (discarded)', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStageStore();
    const theirs = await store.publish(testStageRecord(D, 900));
    const result = await publishStage(candidate(), {
      store, lock: new MemoryStageLock({ clock }), project: 'demo', clock, query: { digest: D, gitRelated: false }, ancestry: yes,
    });
    expect(result).toEqual({ status: 'discarded', stage: (theirs as { stage: StageRecord }).stage });
    expect(store.transfers.map((t) => t.from)).not.toContain('fake/built');
  });

  it('re-lists live under the lock, so a snapshot-caching store cannot hide a rival', async () => {
    const clock = new ManualClock(1000);
    const backendStore = new MemoryStageStore();
    const mine = new MemoryStageStore({ backend: backendStore.backend, snapshotListings: true });
    await mine.listStageIds(D);
    await backendStore.publish(testStageRecord(D, 999));
    const result = await publishStage(candidate(), {
      store: mine, lock: new MemoryStageLock({ clock }), project: 'demo', clock, query: { digest: D, gitRelated: false }, ancestry: yes,
    });
    expect(result.status).toBe('discarded');
    expect(await mine.listStageIds(D, { live: true })).toHaveLength(1);
  });

  it('bumps the timestamp when the store reports a conflict', async () => {
    const clock = new ManualClock(1000);
    const inner = new MemoryStageStore();
    // A rival that writes without the lock, right between our listing and our save.
    let rivalDone = false;
    const racy: StageStore = {
      name: 'racy',
      listStageIds: (d, o) => inner.listStageIds(d, o),
      findStage: (id, o) => inner.findStage(id, o),
      publish: async (record, o): Promise<PublishResult> => {
        if (!rivalDone) {
          rivalDone = true;
          await inner.publish(testStageRecord(D, record.id.timestampMs, { commits: { m: testCommit('rival') } }));
        }
        return inner.publish(record, o);
      },
    };
    const result = await publishStage(candidate(testCommit('mine')), {
      store: racy, lock: new MemoryStageLock({ clock }), project: 'demo', clock, query: { digest: D, gitRelated: true }, ancestry: no,
    });
    expect(result.stage.id.timestampMs).toBe(1001);
    expect((await inner.listStageIds(D)).map((id) => id.timestampMs)).toEqual([1000, 1001]);
  });

  it('needs the lock: without it concurrent builders both save', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStageStore();
    const run = (lock: StageLock): Promise<unknown> =>
      Promise.all([1, 2].map(() => publishStage(candidate(), { store, lock, project: 'demo', clock, query: { digest: D, gitRelated: false }, ancestry: yes })));
    await run(noLock);
    expect(await store.listStageIds(D)).toHaveLength(2);
    const locked = new MemoryStageStore();
    const lock = new MemoryStageLock({ clock });
    await Promise.all([1, 2].map(() => publishStage(candidate(), { store: locked, lock, project: 'demo', clock, query: { digest: D, gitRelated: false }, ancestry: yes })));
    expect(await locked.listStageIds(D)).toHaveLength(1);
  });

  it('refuses to save after losing the lease, and still releases', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStageStore();
    let released = 0;
    const lostLock: StageLock = {
      acquire: (key) =>
        Promise.resolve({ key, token: 1, signal: new AbortController().signal, isValid: () => false, release: () => { released += 1; return Promise.resolve(); } }),
    };
    await expect(
      publishStage(candidate(), { store, lock: lostLock, project: 'demo', clock, query: { digest: D, gitRelated: false }, ancestry: yes }),
    ).rejects.toMatchObject({ code: 'LOCK_FAILED' });
    expect(released).toBe(1);
    expect(await store.listStageIds(D)).toEqual([]);
  });
});

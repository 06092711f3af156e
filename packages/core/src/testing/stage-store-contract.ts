import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../clock.js';
import { formatStageId, parseStageDigest, stageId, type StageDigest, type StageId } from '../ids.js';
import { stageLabels } from '../labels.js';
import type { StageLock } from '../ports/stage-lock.js';
import type { StageRecord, StageStore } from '../ports/stage-store.js';
import { publishStage, type StageCandidate } from '../publish.js';
import type { AncestryOracle } from '../selection.js';
import { MemoryStageLock } from '../stores/memory-stage-lock.js';

/** What {@link describeStageStoreContract} needs from an adapter's test file. */
export interface StageStoreContractSubject {
  /**
   * A new client of one and the same (initially empty) store, like another process would open. Clients
   * may cache listings; they must honour `live`.
   */
  client(): StageStore;
  /** The project the store belongs to. */
  project: string;
  /**
   * An image that `publish` can ingest, distinct per `name` (the memory store accepts any string; a
   * Docker store needs a real local image).
   */
  sourceImage(name: string): Promise<string>;
  /** Lock for the optimistic-publishing races. @default a MemoryStageLock */
  lock?: StageLock | undefined;
  /** Called after each test. */
  cleanup?(): Promise<void>;
}

export interface StageStoreContractOptions {
  /** Concurrent publishers in the race tests. @default 8 */
  racers?: number | undefined;
}

const yes: AncestryOracle = (commits) => Promise.resolve(new Map(commits.map((c) => [c, true])));
const no: AncestryOracle = (commits) => Promise.resolve(new Map(commits.map((c) => [c, false])));

let counter = 0;
/** A fresh digest per call, so tests never collide inside a shared store. */
function freshDigest(): StageDigest {
  counter += 1;
  const seed = `${Date.now().toString(16)}${process.pid.toString(16)}${counter.toString(16).padStart(8, '0')}`;
  return parseStageDigest(seed.padStart(56, 'a').slice(-56));
}

function record(subject: StageStoreContractSubject, id: StageId, imageRef: string, extra: Partial<StageRecord> = {}): StageRecord {
  const commits = extra.commits ?? {};
  const importChecksums = extra.importChecksums ?? {};
  const labels = stageLabels({
    project: subject.project,
    digest: id.digest,
    contentDigest: `content-${id.digest.slice(0, 8)}`,
    parentStageId: extra.parentStageId,
    commits,
    headCommit: extra.headCommit,
    importChecksums,
  });
  return {
    id,
    project: subject.project,
    contentDigest: `content-${id.digest.slice(0, 8)}`,
    imageRef,
    commits,
    importChecksums,
    labels: { ...labels, 'org.example/extra': 'kept' },
    createdAtMs: id.timestampMs,
    ...extra,
  };
}

function candidate(subject: StageStoreContractSubject, digest: StageDigest, imageRef: string, commit?: string): StageCandidate {
  const commits: Record<string, string> = commit === undefined ? {} : { paramsHash: commit };
  return {
    digest,
    project: subject.project,
    contentDigest: `content-${digest.slice(0, 8)}`,
    imageRef,
    commits,
    importChecksums: {},
    labels: stageLabels({ project: subject.project, digest, contentDigest: `content-${digest.slice(0, 8)}`, commits, importChecksums: {} }),
  };
}

/**
 * The {@link StageStore} contract (STYLE rule 18): every adapter runs it from its own test file.
 *
 * ```ts
 * describeStageStoreContract('MemoryStageStore', () => {
 *   const backend = new MemoryStageBackend();
 *   return { project: 'demo', client: () => new MemoryStageStore({ backend }), sourceImage: async (n) => n };
 * });
 * ```
 */
export function describeStageStoreContract(
  name: string,
  factory: () => StageStoreContractSubject | Promise<StageStoreContractSubject>,
  options: StageStoreContractOptions = {},
): void {
  const racers = options.racers ?? 8;

  async function withSubject(test: (subject: StageStoreContractSubject) => Promise<void>): Promise<void> {
    const subject = await factory();
    try {
      await test(subject);
    } finally {
      await subject.cleanup?.();
    }
  }

  describe(`StageStore contract: ${name}`, () => {
    it('misses are values: unknown digests list nothing, unknown ids are undefined', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const digest = freshDigest();
        expect(await store.listStageIds(digest)).toEqual([]);
        expect(await store.findStage(stageId(digest, 1))).toBeUndefined();
      }));

    it('publishes a stage that find and list then return, with its labels', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const digest = freshDigest();
        const parent = stageId(freshDigest(), 1_700_000_000_000);
        const id = stageId(digest, 1_700_000_000_123);
        const source = await subject.sourceImage('publish');
        const published = record(subject, id, source, {
          parentStageId: parent,
          commits: { ['a'.repeat(64)]: 'c'.repeat(40) },
          headCommit: 'd'.repeat(40),
          importChecksums: { imp1: 'e'.repeat(64) },
        });
        const result = await store.publish(published);
        expect(result.status).toBe('stored');
        const found = await store.findStage(id);
        expect(found).toBeDefined();
        expect(found?.id).toEqual(id);
        expect(found?.project).toBe(subject.project);
        expect(found?.contentDigest).toBe(published.contentDigest);
        expect(found?.parentStageId).toEqual(parent);
        expect(found?.commits).toEqual(published.commits);
        expect(found?.headCommit).toBe('d'.repeat(40));
        expect(found?.importChecksums).toEqual({ imp1: 'e'.repeat(64) });
        expect(found?.labels['org.example/extra']).toBe('kept');
        expect(found?.imageRef).toBeTruthy();
        expect(await store.listStageIds(digest)).toEqual([id]);
        const all = await store.listStageIds(undefined);
        expect(all.map(formatStageId)).toContain(formatStageId(id));
        expect(await store.listStageIds(freshDigest())).toEqual([]);
      }));

    it('reports a conflict, and writes nothing, when the exact stage id exists', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const id = stageId(freshDigest(), 1_700_000_000_000);
        const first = record(subject, id, await subject.sourceImage('first'), { headCommit: '1'.repeat(40) });
        const second = record(subject, id, await subject.sourceImage('second'), { headCommit: '2'.repeat(40) });
        expect((await store.publish(first)).status).toBe('stored');
        const result = await store.publish(second);
        expect(result.status).toBe('conflict');
        if (result.status === 'conflict') expect(result.existing.headCommit).toBe('1'.repeat(40));
        expect((await store.findStage(id))?.headCommit).toBe('1'.repeat(40));
        expect(await store.listStageIds(id.digest)).toHaveLength(1);
      }));

    it('lists several stages of one digest oldest first', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const digest = freshDigest();
        const source = await subject.sourceImage('many');
        for (const ts of [1_700_000_000_300, 1_700_000_000_100, 1_700_000_000_200]) {
          expect((await store.publish(record(subject, stageId(digest, ts), source))).status).toBe('stored');
        }
        expect((await store.listStageIds(digest)).map((id) => id.timestampMs)).toEqual([
          1_700_000_000_100, 1_700_000_000_200, 1_700_000_000_300,
        ]);
      }));

    it('reads its own writes, and sees other clients\' writes in a live listing', () =>
      withSubject(async (subject) => {
        const a = subject.client();
        const b = subject.client();
        const digest = freshDigest();
        await a.listStageIds(digest);
        await b.listStageIds(digest);
        const source = await subject.sourceImage('ryw');
        const mine = stageId(digest, 1_700_000_000_001);
        await a.publish(record(subject, mine, source));
        expect(await a.listStageIds(digest)).toEqual([mine]);
        expect(await b.listStageIds(digest, { live: true })).toEqual([mine]);
        expect(await b.findStage(mine)).toBeDefined();
      }));

    it('prefetch (when the adapter has it) changes no answer, also concurrently with lookups', () =>
      withSubject(async (subject) => {
        const writer = subject.client();
        const digest = freshDigest();
        const source = await subject.sourceImage('prefetch');
        const before = stageId(digest, 1_700_000_000_010);
        await writer.publish(record(subject, before, source));
        const store = subject.client();
        const [, listed, found] = await Promise.all([store.prefetch?.(), store.listStageIds(digest), store.findStage(before)]);
        expect(listed).toEqual([before]);
        expect(found?.id).toEqual(before);
        await store.prefetch?.();
        const mine = stageId(digest, 1_700_000_000_020);
        await store.publish(record(subject, mine, source));
        expect(await store.listStageIds(digest)).toEqual([before, mine]);
        const aborted = new AbortController();
        aborted.abort(new Error('stop'));
        await expect(store.prefetch?.({ signal: aborted.signal }) ?? Promise.reject(new Error('stop'))).rejects.toThrow();
      }));

    it('copies a stage from another store keeping its stage id', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const id = stageId(freshDigest(), 1_700_000_000_777);
        const original = record(subject, id, await subject.sourceImage('copy'));
        const copied = await store.publish(original);
        expect(copied.status).toBe('stored');
        if (copied.status === 'stored') expect(copied.stage.id).toEqual(id);
        expect((await store.findStage(id))?.contentDigest).toBe(original.contentDigest);
      }));

    it(`lets exactly one of ${racers} clients publish the same stage id`, () =>
      withSubject(async (subject) => {
        const id = stageId(freshDigest(), 1_700_000_000_000);
        const source = await subject.sourceImage('race-id');
        const results = await Promise.all(
          Array.from({ length: racers }, (_, i) => subject.client().publish(record(subject, id, source, { headCommit: String(i).padStart(40, '0') }))),
        );
        expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
        expect(await subject.client().listStageIds(id.digest, { live: true })).toEqual([id]);
      }));

    it(`leaves exactly one stored stage when ${racers} builders publish one digest under the lock protocol`, () =>
      withSubject(async (subject) => {
        const digest = freshDigest();
        const lock = subject.lock ?? new MemoryStageLock();
        const source = await subject.sourceImage('race-digest');
        const results = await Promise.all(
          Array.from({ length: racers }, () => {
            const store = subject.client();
            return publishStage(candidate(subject, digest, source), {
              store,
              lock,
              project: subject.project,
              clock: systemClock,
              query: { digest, gitRelated: false },
              ancestry: yes,
            });
          }),
        );
        const ids = await subject.client().listStageIds(digest, { live: true });
        expect(ids).toHaveLength(1);
        expect(results.filter((r) => r.status === 'built')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'discarded')).toHaveLength(racers - 1);
        for (const r of results) expect(r.stage.id).toEqual(ids[0]);
      }));

    it('saves unique timestamps for one digest even when the clock stands still', () =>
      withSubject(async (subject) => {
        const digest = freshDigest();
        const lock = subject.lock ?? new MemoryStageLock();
        const frozen: Clock = { now: () => 1_700_000_000_000, sleep: (ms, o) => systemClock.sleep(ms, o) };
        const source = await subject.sourceImage('unique-ts');
        // The oracle says no stored commit is an ancestor, so nobody may adopt another's stage: all must save.
        const results = await Promise.all(
          Array.from({ length: racers }, (_, i) =>
            publishStage(candidate(subject, digest, source, String(i).padStart(40, '0')), {
              store: subject.client(),
              lock,
              project: subject.project,
              clock: frozen,
              query: { digest, gitRelated: true },
              ancestry: no,
            }),
          ),
        );
        expect(results.every((r) => r.status === 'built')).toBe(true);
        const ids = await subject.client().listStageIds(digest, { live: true });
        expect(ids).toHaveLength(racers);
        expect(new Set(ids.map((id) => id.timestampMs)).size).toBe(racers);
      }));

    it('rejects with the signal reason once aborted', () =>
      withSubject(async (subject) => {
        const store = subject.client();
        const controller = new AbortController();
        const reason = new Error('stop');
        controller.abort(reason);
        const digest = freshDigest();
        await expect(store.listStageIds(digest, { signal: controller.signal })).rejects.toBe(reason);
        await expect(store.findStage(stageId(digest, 1), { signal: controller.signal })).rejects.toBe(reason);
        await expect(
          store.publish(record(subject, stageId(digest, 1), await subject.sourceImage('abort')), { signal: controller.signal }),
        ).rejects.toBe(reason);
        expect(await store.listStageIds(digest)).toEqual([]);
      }));
  });
}

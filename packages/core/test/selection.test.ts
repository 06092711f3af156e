import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  commitsToCheck,
  findSuitableStage,
  gitAncestryOracle,
  lookupStage,
  selectStage,
  stageId,
  type AncestryOracle,
  type StageRecord,
} from '@strata/core';
import { MemoryStageStore, testCommit, testDigest, testStageRecord } from '@strata/core/testing';

const D = testDigest('stage');
const OTHER = testDigest('other');
const c1 = testCommit('c1');
const c2 = testCommit('c2');
const sibling = testCommit('sibling');
const ancestors = new Map([
  [c1, true],
  [c2, true],
  [sibling, false],
]);

const answering =
  (answers: ReadonlyMap<string, boolean>, log: string[][] = []): AncestryOracle =>
  (commits) => {
    log.push([...commits]);
    return Promise.resolve(new Map(commits.map((c) => [c, answers.get(c) === true])));
  };

describe('selectStage (pure)', () => {
  it('picks the oldest stage with the digest', () => {
    const stages = [testStageRecord(D, 30), testStageRecord(D, 10), testStageRecord(OTHER, 1), testStageRecord(D, 20)];
    expect(selectStage({ digest: D, gitRelated: false }, stages)?.id).toEqual(stageId(D, 10));
  });

  it('misses with undefined', () => {
    expect(selectStage({ digest: D, gitRelated: false }, [testStageRecord(OTHER, 1)])).toBeUndefined();
    expect(selectStage({ digest: D, gitRelated: false }, [])).toBeUndefined();
  });

  it('drops stages older than the previous stage\'s selection, keeping equal ones', () => {
    const stages = [testStageRecord(D, 10), testStageRecord(D, 20), testStageRecord(D, 30)];
    expect(selectStage({ digest: D, gitRelated: false, previous: stageId(OTHER, 20) }, stages)?.id.timestampMs).toBe(20);
    expect(selectStage({ digest: D, gitRelated: false, previous: stageId(OTHER, 21) }, stages)?.id.timestampMs).toBe(30);
    expect(selectStage({ digest: D, gitRelated: false, previous: stageId(OTHER, 31) }, stages)).toBeUndefined();
  });

  it('keeps only git stages whose every commit is an ancestor of the current commit', () => {
    const stages = [
      testStageRecord(D, 10, { commits: { m1: sibling } }),
      testStageRecord(D, 20, { commits: {} }),
      testStageRecord(D, 30, { commits: { m1: c1, m2: sibling } }),
      testStageRecord(D, 40, { commits: { m1: c1, m2: c2 } }),
      testStageRecord(D, 50, { commits: { m1: c2 } }),
    ];
    const query = { digest: D, gitRelated: true };
    expect(selectStage(query, stages, ancestors)?.id.timestampMs).toBe(40);
    expect(selectStage(query, stages, (c) => c !== sibling)?.id.timestampMs).toBe(40);
    expect(selectStage(query, stages, new Map())).toBeUndefined();
    // Not git-related: commits are irrelevant.
    expect(selectStage({ digest: D, gitRelated: false }, stages)?.id.timestampMs).toBe(10);
  });

  it("counts only the commits of the image's own mappings when they are named", () => {
    // A stage built on another image's stage inherits that image's commit labels ("base" here).
    const stages = [
      testStageRecord(D, 10, { commits: { own: c1, base: sibling } }),
      testStageRecord(D, 20, { commits: { base: c1 } }),
    ];
    const query = { digest: D, gitRelated: true, mappingHashes: ['own'] };
    expect(selectStage(query, stages, ancestors)?.id.timestampMs).toBe(10);
    expect(commitsToCheck(query, stages)).toEqual([c1]);
    // Without the mapping names every label counts, and the inherited sibling commit disqualifies.
    expect(selectStage({ digest: D, gitRelated: true }, stages, ancestors)?.id.timestampMs).toBe(20);
  });

  it('asks about each commit of the eligible candidates once', () => {
    const stages = [
      testStageRecord(D, 10, { commits: { m1: sibling } }),
      testStageRecord(D, 30, { commits: { m1: c1, m2: c2 } }),
      testStageRecord(D, 40, { commits: { m1: c1 } }),
      testStageRecord(OTHER, 50, { commits: { m1: testCommit('x') } }),
    ];
    expect(commitsToCheck({ digest: D, gitRelated: true, previous: stageId(OTHER, 20) }, stages).sort()).toEqual([c1, c2].sort());
    expect(commitsToCheck({ digest: D, gitRelated: false }, stages)).toEqual([]);
  });

  it('always returns the oldest eligible candidate (property)', () => {
    const arb = fc.array(
      fc.record({ ts: fc.nat({ max: 1000 }), sameDigest: fc.boolean(), commit: fc.constantFrom(c1, c2, sibling) }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(arb, fc.option(fc.nat({ max: 1000 }), { nil: undefined }), fc.boolean(), (rows, prev, git) => {
        const unique = [...new Map(rows.map((r) => [`${r.sameDigest}-${r.ts}`, r])).values()];
        const stages = unique.map((r) => testStageRecord(r.sameDigest ? D : OTHER, r.ts, { commits: { m: r.commit } }));
        const query = { digest: D, gitRelated: git, previous: prev === undefined ? undefined : stageId(OTHER, prev) };
        const chosen = selectStage(query, stages, ancestors);
        const eligible = stages.filter(
          (s: StageRecord) =>
            s.id.digest === D && (prev === undefined || s.id.timestampMs >= prev) && (!git || ancestors.get(s.commits.m ?? '') === true),
        );
        const oldest = eligible.reduce<StageRecord | undefined>((a, s) => (!a || s.id.timestampMs < a.id.timestampMs ? s : a), undefined);
        expect(chosen?.id).toEqual(oldest?.id);
      }),
    );
  });
});

describe('findSuitableStage', () => {
  it('fetches one record for a stage that is not git-related', async () => {
    const store = new MemoryStageStore();
    for (const ts of [30, 10, 20]) await store.publish(testStageRecord(D, ts));
    store.calls.find = 0;
    const log: string[][] = [];
    const found = await findSuitableStage(store, { digest: D, gitRelated: false }, answering(ancestors, log));
    expect(found?.id.timestampMs).toBe(10);
    expect(store.calls.find).toBe(1);
    expect(log).toEqual([]);
  });

  it('asks ancestry questions in one batch for a git-related stage', async () => {
    const store = new MemoryStageStore();
    await store.publish(testStageRecord(D, 10, { commits: { m: sibling } }));
    await store.publish(testStageRecord(D, 20, { commits: { m: c1 } }));
    await store.publish(testStageRecord(D, 30, { commits: { m: c1, n: c2 } }));
    const log: string[][] = [];
    const found = await findSuitableStage(store, { digest: D, gitRelated: true }, answering(ancestors, log));
    expect(found?.id.timestampMs).toBe(20);
    expect(log).toHaveLength(1);
    expect(log[0]?.sort()).toEqual([c1, c2, sibling].sort());
  });
});

describe('findSuitableStage in batches', () => {
  it('stops at the first batch holding a suitable stage', async () => {
    const store = new MemoryStageStore();
    for (let ts = 1; ts <= 20; ts += 1) await store.publish(testStageRecord(D, ts, { commits: { m: ts === 3 || ts === 15 ? c1 : sibling } }));
    store.calls.find = 0;
    const log: string[][] = [];
    expect((await findSuitableStage(store, { digest: D, gitRelated: true }, answering(ancestors, log)))?.id.timestampMs).toBe(3);
    expect(store.calls.find).toBe(8);
    expect(log).toHaveLength(1);
  });

  it('walks on to later batches when earlier ones hold nothing suitable', async () => {
    const store = new MemoryStageStore();
    for (let ts = 1; ts <= 20; ts += 1) await store.publish(testStageRecord(D, ts, { commits: { m: ts === 19 ? c2 : sibling } }));
    store.calls.find = 0;
    expect((await findSuitableStage(store, { digest: D, gitRelated: true }, answering(ancestors)))?.id.timestampMs).toBe(19);
    expect(store.calls.find).toBe(20);
  });
});

describe('lookupStage', () => {
  it('reuses a primary hit', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    await primary.publish(testStageRecord(D, 10));
    expect(await lookupStage({ primary }, { digest: D, gitRelated: false }, answering(ancestors))).toMatchObject({
      status: 'reused',
      stage: { id: stageId(D, 10) },
    });
  });

  it('copies a secondary hit into the primary keeping its stage id', async () => {
    const primary = new MemoryStageStore({ name: 'primary' });
    const empty = new MemoryStageStore({ name: 'empty' });
    const secondary = new MemoryStageStore({ name: 'secondary' });
    await secondary.publish(testStageRecord(D, 10, { commits: { m: c1 } }));
    await secondary.publish(testStageRecord(D, 5, { commits: { m: sibling } }));
    const result = await lookupStage({ primary, secondaries: [empty, secondary] }, { digest: D, gitRelated: true }, answering(ancestors));
    expect(result).toMatchObject({ status: 'copied', from: 'secondary', stage: { id: stageId(D, 10) } });
    expect(await primary.listStageIds(D)).toEqual([stageId(D, 10)]);
    expect(primary.transfers).toEqual([{ id: `${D}-10`, from: `memory/secondary:${D}-10` }]);
    expect(await secondary.listStageIds(D)).toHaveLength(2);
  });

  it('misses when no store has a suitable stage', async () => {
    const primary = new MemoryStageStore();
    const secondary = new MemoryStageStore();
    await secondary.publish(testStageRecord(D, 10, { commits: { m: sibling } }));
    expect(await lookupStage({ primary, secondaries: [secondary] }, { digest: D, gitRelated: true }, answering(ancestors))).toBeUndefined();
  });
});

describe('gitAncestryOracle', () => {
  it('batches unknown questions and memoises answers', async () => {
    const asked: string[][] = [];
    const head = testCommit('head');
    const oracle = gitAncestryOracle(
      {
        isAncestorMany: (queries) => {
          asked.push(queries.map((q) => `${q.ancestor}->${q.descendant}`));
          return Promise.resolve(queries.map((q) => q.ancestor !== sibling));
        },
      },
      head,
    );
    expect(await oracle([c1, sibling, c1])).toEqual(new Map([[c1, true], [sibling, false]]));
    expect(await oracle([c1, c2])).toEqual(new Map([[c1, true], [c2, true]]));
    expect(asked).toEqual([[`${c1}->${head}`, `${sibling}->${head}`], [`${c2}->${head}`]]);
    // The current commit is its own ancestor: git is not asked.
    expect(await oracle([head])).toEqual(new Map([[head, true]]));
    expect(asked).toHaveLength(2);
  });
});

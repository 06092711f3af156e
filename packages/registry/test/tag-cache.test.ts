import { describe, expect, it } from 'vitest';
import { formatStageId, stageId, type StageDigest } from '@strata/core';
import { TagListCache, TagListing, parseRepository, type RegistryClient } from '@strata/registry';

type ListTags = Pick<RegistryClient, 'listTags'>;

/** An in-process fake of the one client method the cache uses. */
function fakeLister(tags: Record<string, string[]>): ListTags & { calls: number; release: () => void; gate: Promise<void> | undefined; signals: AbortSignal[] } {
  const fake = {
    calls: 0,
    signals: [] as AbortSignal[],
    gate: undefined as Promise<void> | undefined,
    release: () => undefined as void,
    async listTags(repository: Parameters<RegistryClient['listTags']>[0], options: { signal?: AbortSignal } = {}) {
      fake.calls++;
      if (options.signal !== undefined) fake.signals.push(options.signal);
      // The registry's answer is what it held when the request was made.
      const answer = [...(tags[repository.toString()] ?? [])].sort();
      if (fake.gate !== undefined) await fake.gate;
      options.signal?.throwIfAborted();
      return answer;
    },
  };
  return fake;
}

function gated(fake: ReturnType<typeof fakeLister>): void {
  fake.gate = new Promise((resolve) => {
    fake.release = resolve;
  });
}

const repo = parseRepository('127.0.0.1:5000/p/stages');

describe('TagListCache', () => {
  it('lists a repository once and answers later calls from the cache', async () => {
    const data = { [repo.toString()]: ['b', 'a'] };
    const fake = fakeLister(data);
    const cache = new TagListCache(fake);
    expect(await cache.listTags(repo)).toEqual(['a', 'b']);
    data[repo.toString()] = ['a', 'b', 'c'];
    expect(await cache.listTags(repo)).toEqual(['a', 'b']);
    expect(fake.calls).toBe(1);
    expect(cache.stats).toEqual({ listings: 1, hits: 1 });
    expect(await cache.listTags(repo, { live: true })).toEqual(['a', 'b', 'c']);
    expect(await cache.listTags(repo)).toEqual(['a', 'b', 'c']);
    expect(fake.calls).toBe(2);
  });

  it('shares one listing among concurrent callers', async () => {
    const fake = fakeLister({ [repo.toString()]: ['x'] });
    gated(fake);
    const cache = new TagListCache(fake);
    const all = Promise.all([cache.listTags(repo), cache.listTags(repo), cache.listTags(repo)]);
    fake.release();
    expect(await all).toEqual([['x'], ['x'], ['x']]);
    expect(fake.calls).toBe(1);
  });

  it('records pushed and deleted tags without re-listing, keeping the order', async () => {
    const fake = fakeLister({ [repo.toString()]: ['b'] });
    const cache = new TagListCache(fake);
    cache.recordTag(repo, 'ignored-before-listing');
    expect(await cache.listTags(repo)).toEqual(['b']);
    cache.recordTag(repo, 'a');
    cache.recordTag(repo, 'c');
    cache.recordTag(repo, 'a');
    cache.forgetTag(repo, 'b');
    expect(await cache.listTags(repo)).toEqual(['a', 'c']);
    cache.invalidate(repo);
    expect(await cache.listTags(repo)).toEqual(['b']);
    expect(fake.calls).toBe(2);
  });

  it('keeps tags recorded while a listing was in flight', async () => {
    const fake = fakeLister({ [repo.toString()]: ['old', 'gone'] });
    gated(fake);
    const cache = new TagListCache(fake);
    const pending = cache.listTags(repo);
    cache.recordTag(repo, 'new');
    cache.forgetTag(repo, 'gone');
    fake.release();
    expect(await pending).toEqual(['new', 'old']);
    expect(await cache.listTags(repo)).toEqual(['new', 'old']);
  });

  it('never lets an older listing overwrite a newer one', async () => {
    const data = { [repo.toString()]: ['a'] };
    const fake = fakeLister(data);
    gated(fake);
    const firstGate = fake.release;
    const cache = new TagListCache(fake);
    const slow = cache.listTags(repo);
    fake.gate = undefined;
    data[repo.toString()] = ['a', 'b'];
    expect(await cache.listTags(repo, { live: true })).toEqual(['a', 'b']);
    firstGate();
    await slow;
    expect(await cache.listTags(repo)).toEqual(['a', 'b']);
  });

  it('cancels a shared listing only when every waiter has aborted', async () => {
    const fake = fakeLister({ [repo.toString()]: ['t'] });
    gated(fake);
    const cache = new TagListCache(fake);
    const first = new AbortController();
    const second = new AbortController();
    const a = cache.listTags(repo, { signal: first.signal });
    const b = cache.listTags(repo, { signal: second.signal });
    first.abort(new Error('first gave up'));
    await expect(a).rejects.toThrow('first gave up');
    expect(fake.signals[0]?.aborted).toBe(false);
    second.abort(new Error('second gave up'));
    await expect(b).rejects.toThrow('second gave up');
    expect(fake.signals[0]?.aborted).toBe(true);
    fake.release();
    // A failed listing is not cached: the next call lists again.
    fake.gate = undefined;
    expect(await cache.listTags(repo)).toEqual(['t']);
    expect(fake.calls).toBe(2);
  });
});

const digestA = 'a'.repeat(56) as StageDigest;
const digestB = 'b'.repeat(56) as StageDigest;
const tagOf = (digest: StageDigest, ms: number): string => formatStageId(stageId(digest, ms));

describe('TagListing', () => {
  it('sorts by code point and drops repeats, whatever order the registry answered', () => {
    const listing = TagListing.of(['b', 'a', 'B', 'b', 'a-1', 'a']);
    expect(listing.tags).toEqual(['B', 'a', 'a-1', 'b']);
    expect(listing.size).toBe(4);
    expect(TagListing.of([]).tags).toEqual([]);
  });

  it('answers has-tag and prefix queries by the exact tag and prefix', () => {
    const listing = TagListing.of(['v1', 'v1.0', 'v1.1', 'v2', 'latest', 'v10']);
    expect(listing.has('v1')).toBe(true);
    expect(listing.has('v1.2')).toBe(false);
    expect(listing.has('')).toBe(false);
    expect(listing.has('zzz')).toBe(false);
    expect(listing.withPrefix('v1')).toEqual(['v1', 'v1.0', 'v1.1', 'v10']);
    expect(listing.withPrefix('v1.')).toEqual(['v1.0', 'v1.1']);
    expect(listing.withPrefix('w')).toEqual([]);
    expect(listing.withPrefix('')).toEqual(['latest', 'v1', 'v1.0', 'v1.1', 'v10', 'v2']);
  });

  it('parses the stage ids of one digest or all, oldest first, ignoring other tags', () => {
    const listing = TagListing.of([
      tagOf(digestB, 5),
      tagOf(digestA, 20),
      tagOf(digestA, 3),
      `${digestA}-0042`, // a leading zero: not a stage id
      `${digestA}-x`,
      'latest',
      tagOf(digestB, 20),
    ]);
    expect(listing.stageIds(digestA)).toEqual([stageId(digestA, 3), stageId(digestA, 20)]);
    expect(listing.stageIds(digestB)).toEqual([stageId(digestB, 5), stageId(digestB, 20)]);
    // Among equal timestamps, by digest.
    expect(listing.stageIds(undefined)).toEqual([stageId(digestA, 3), stageId(digestB, 5), stageId(digestA, 20), stageId(digestB, 20)]);
    expect(listing.stageIds('c'.repeat(56) as StageDigest)).toEqual([]);
  });

  it('parses a digest once per listing: later calls return the same array', () => {
    const listing = TagListing.of([tagOf(digestA, 1), tagOf(digestA, 2)]);
    const first = listing.stageIds(digestA);
    expect(listing.stageIds(digestA)).toBe(first);
    expect(listing.stageIds(undefined)).toBe(listing.stageIds(undefined));
  });

  it('makes a new listing for a recorded or forgotten tag and leaves the old one as it was', () => {
    const listing = TagListing.of([tagOf(digestA, 1), 'm']);
    const before = listing.stageIds(digestA);
    const added = listing.with(tagOf(digestA, 2));
    expect(added.tags).toEqual([tagOf(digestA, 1), tagOf(digestA, 2), 'm']);
    expect(added.stageIds(digestA)).toEqual([stageId(digestA, 1), stageId(digestA, 2)]);
    expect(listing.tags).toEqual([tagOf(digestA, 1), 'm']);
    expect(listing.stageIds(digestA)).toBe(before);
    expect(listing.with('m')).toBe(listing);
    expect(listing.without('absent')).toBe(listing);
    const removed = added.without(tagOf(digestA, 1));
    expect(removed.tags).toEqual([tagOf(digestA, 2), 'm']);
    expect(removed.has(tagOf(digestA, 1))).toBe(false);
  });
});

describe('TagListCache queries', () => {
  it('answers has-tag, prefix and stage-id queries from one listing', async () => {
    const fake = fakeLister({ [repo.toString()]: [tagOf(digestB, 7), 'latest', tagOf(digestA, 9), tagOf(digestA, 8)] });
    const cache = new TagListCache(fake);
    expect(await cache.hasTag(repo, 'latest')).toBe(true);
    expect(await cache.hasTag(repo, tagOf(digestA, 10))).toBe(false);
    expect(await cache.tagsWithPrefix(repo, `${digestA}-`)).toEqual([tagOf(digestA, 8), tagOf(digestA, 9)]);
    expect(await cache.stageIds(repo, digestA)).toEqual([stageId(digestA, 8), stageId(digestA, 9)]);
    expect(await cache.stageIds(repo, undefined)).toEqual([stageId(digestB, 7), stageId(digestA, 8), stageId(digestA, 9)]);
    expect(fake.calls).toBe(1);
    expect(cache.stats).toEqual({ listings: 1, hits: 4 });
  });

  it('shows recorded and forgotten tags in the queries, and re-lists live', async () => {
    const data = { [repo.toString()]: [tagOf(digestA, 1)] };
    const fake = fakeLister(data);
    const cache = new TagListCache(fake);
    expect(await cache.stageIds(repo, digestA)).toEqual([stageId(digestA, 1)]);
    cache.recordTag(repo, tagOf(digestA, 2));
    expect(await cache.stageIds(repo, digestA)).toEqual([stageId(digestA, 1), stageId(digestA, 2)]);
    expect(await cache.hasTag(repo, tagOf(digestA, 2))).toBe(true);
    cache.forgetTag(repo, tagOf(digestA, 1));
    expect(await cache.stageIds(repo, digestA)).toEqual([stageId(digestA, 2)]);
    expect(fake.calls).toBe(1);
    data[repo.toString()] = [tagOf(digestA, 3)];
    expect(await cache.stageIds(repo, digestA, { live: true })).toEqual([stageId(digestA, 3)]);
    expect(await cache.hasTag(repo, tagOf(digestA, 2))).toBe(false);
    expect(fake.calls).toBe(2);
  });

  it('hands listTags callers a copy, so changing it never changes the cache', async () => {
    const fake = fakeLister({ [repo.toString()]: ['a', 'b'] });
    const cache = new TagListCache(fake);
    const copy = (await cache.listTags(repo)) as string[];
    copy.push('z');
    copy.sort().reverse();
    expect(await cache.listTags(repo)).toEqual(['a', 'b']);
    expect(await cache.hasTag(repo, 'z')).toBe(false);
    expect((await cache.listing(repo)).tags).toEqual(['a', 'b']);
  });

  it('sorts and de-duplicates an unsorted client answer before answering queries', async () => {
    const unsorted: Pick<RegistryClient, 'listTags'> = { listTags: () => Promise.resolve(['c', 'a', 'c', 'b']) };
    const cache = new TagListCache(unsorted);
    expect(await cache.listTags(repo)).toEqual(['a', 'b', 'c']);
    expect(await cache.hasTag(repo, 'a')).toBe(true);
  });
});

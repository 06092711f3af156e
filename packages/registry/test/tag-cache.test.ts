import { describe, expect, it } from 'vitest';
import { TagListCache, parseRepository, type RegistryClient } from '@strata/registry';

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

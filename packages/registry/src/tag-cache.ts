import { tryParseStageId, type StageDigest, type StageId } from '@strata/core';
import { abortReason } from '@strata/errors';
import type { CallOptions, RegistryClient } from './client.js';
import type { Repository } from './reference.js';
import { lowerBound, prefixEnd, sortUniqueInPlace } from './sorted-tags.js';

/**
 * One repository's tags as one listing found them (plus the pushes and deletes the {@link TagListCache}
 * recorded since): sorted ascending by `<` (code-point order for the ASCII tags registries allow),
 * without duplicates, and never changed once made — recording a tag makes a new listing. Its queries
 * answer from the sorted tags by binary search, without copying them; {@link stageIds} parses each
 * digest's tags once per listing and answers later calls with the same array.
 */
export class TagListing {
  readonly #tags: readonly string[];
  /** Stage ids by digest (`''`: every stage id), parsed on first demand. */
  readonly #stageIds = new Map<string, readonly StageId[]>();

  private constructor(sortedUnique: readonly string[]) {
    this.#tags = sortedUnique;
  }

  /** A listing of `tags` in any order, repeats allowed. Takes ownership of the array (it is sorted in place). */
  static of(tags: string[]): TagListing {
    return new TagListing(sortUniqueInPlace(tags));
  }

  /** How many tags the listing holds. */
  get size(): number {
    return this.#tags.length;
  }

  /** Every tag, sorted. The listing's own array, not a copy: never mutate it. */
  get tags(): readonly string[] {
    return this.#tags;
  }

  /** Whether the listing shows `tag`. O(log n). */
  has(tag: string): boolean {
    return this.#tags[lowerBound(this.#tags, tag)] === tag;
  }

  /** The tags starting with `prefix`, sorted (a new array of just those). O(log n + matches). */
  withPrefix(prefix: string): string[] {
    const start = lowerBound(this.#tags, prefix);
    return this.#tags.slice(start, prefixEnd(this.#tags, prefix, start));
  }

  /**
   * The stage ids (`DIGEST-TIMESTAMP_MILLISEC` tags) among the tags, of `digest` or all when
   * `undefined`, oldest first and by digest among equal timestamps (core's `compareStageIds` order).
   * Tags that are not stage ids are ignored. Repeated calls return the same array: never mutate it.
   */
  stageIds(digest: StageDigest | undefined): readonly StageId[] {
    const key = digest ?? '';
    let ids = this.#stageIds.get(key);
    if (ids === undefined) {
      ids = parseStageIds(this.#tags, digest === undefined ? '' : `${digest}-`);
      this.#stageIds.set(key, ids);
    }
    return ids;
  }

  /** This listing with `tag` present (itself when it already is). */
  with(tag: string): TagListing {
    const at = lowerBound(this.#tags, tag);
    if (this.#tags[at] === tag) return this;
    return new TagListing([...this.#tags.slice(0, at), tag, ...this.#tags.slice(at)]);
  }

  /** This listing without `tag` (itself when it is absent). */
  without(tag: string): TagListing {
    const at = lowerBound(this.#tags, tag);
    if (this.#tags[at] !== tag) return this;
    return new TagListing([...this.#tags.slice(0, at), ...this.#tags.slice(at + 1)]);
  }
}

/** The stage ids among the sorted `tags` starting with `prefix`, in `compareStageIds` order. */
function parseStageIds(tags: readonly string[], prefix: string): StageId[] {
  const ids: StageId[] = [];
  const start = lowerBound(tags, prefix);
  const end = prefixEnd(tags, prefix, start);
  for (let i = start; i < end; i++) {
    const id = tryParseStageId(tags[i] as string);
    if (id !== undefined) ids.push(id);
  }
  // Sorted tags of one length-56 digest each are in digest order among equal timestamps, so a stable
  // sort by timestamp alone gives compareStageIds' order (and is linear when the timestamps already
  // ascend, as V8's sort is a TimSort).
  return ids.sort((a, b) => a.timestampMs - b.timestampMs);
}

export interface TagListOptions extends CallOptions {
  /**
   * List from the registry even when a cached listing exists (and refresh the cache). Use it under
   * the publish lock, where a stale listing could lose a race.
   * @default false
   */
  live?: boolean;
}

export interface TagListCacheStats {
  /** Listings actually requested from the registry. */
  readonly listings: number;
  /** Calls answered from the cache or by joining a listing already in flight. */
  readonly hits: number;
}

interface Flight {
  readonly promise: Promise<TagListing>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * The "one tag listing per repository per build" economy: the first call about a repository lists
 * it, later calls reuse that {@link TagListing}, concurrent calls share one listing, and `live: true`
 * re-lists. Tags this process pushes or deletes are recorded so the cache stays truthful without
 * re-listing. Lives as long as one build; create a new one per build.
 *
 * Ask the questions a caller has ({@link hasTag}, {@link tagsWithPrefix}, {@link stageIds}) rather
 * than {@link listTags}: they answer from the cached listing in O(log n) without copying it, where
 * `listTags` copies every tag (tens of thousands, per call, in a big repository).
 *
 * The array the client's `listTags` answers becomes the cache's own (it is sorted in place when it is
 * not sorted already): the client must answer a new array each call, as {@link RegistryClient} does.
 * A shared listing is cancelled only when every caller waiting for it has aborted.
 */
export class TagListCache {
  readonly #client: Pick<RegistryClient, 'listTags'>;
  readonly #byRepository = new Map<string, TagListing>();
  readonly #flights = new Map<string, Flight>();
  /** Sequence number of the listing each cached entry came from: an older listing never overwrites a newer one. */
  readonly #storedSeq = new Map<string, number>();
  #seq = 0;
  /** Tags recorded or forgotten by this process, by repository, in order. */
  readonly #mutations = new Map<string, { seq: number; tag: string; present: boolean }[]>();
  #listings = 0;
  #hits = 0;

  constructor(client: Pick<RegistryClient, 'listTags'>) {
    this.#client = client;
  }

  get stats(): TagListCacheStats {
    return { listings: this.#listings, hits: this.#hits };
  }

  /**
   * The listing of `repository` (empty for an unknown repository): the cached one, or the one in
   * flight, or a new listing when there is neither or `live` is set. The queries below and
   * {@link listTags} all answer from it.
   */
  async listing(repository: Repository, options: TagListOptions = {}): Promise<TagListing> {
    const key = repository.toString();
    options.signal?.throwIfAborted();
    if (options.live !== true) {
      const cached = this.#byRepository.get(key);
      if (cached !== undefined) {
        this.#hits++;
        return cached;
      }
    }
    let flight = options.live === true ? undefined : this.#flights.get(key);
    if (flight === undefined) {
      flight = this.#start(repository, key);
    } else {
      this.#hits++;
    }
    return this.#wait(key, flight, options.signal);
  }

  /** The sorted tags of `repository` (empty for an unknown repository), as a copy the caller owns. */
  async listTags(repository: Repository, options: TagListOptions = {}): Promise<readonly string[]> {
    return [...(await this.listing(repository, options)).tags];
  }

  /** Whether the listing of `repository` shows `tag` (see {@link TagListing.has}). */
  async hasTag(repository: Repository, tag: string, options: TagListOptions = {}): Promise<boolean> {
    return (await this.listing(repository, options)).has(tag);
  }

  /** The tags of `repository` starting with `prefix`, sorted (see {@link TagListing.withPrefix}). */
  async tagsWithPrefix(repository: Repository, prefix: string, options: TagListOptions = {}): Promise<string[]> {
    return (await this.listing(repository, options)).withPrefix(prefix);
  }

  /**
   * The stage ids of `digest` (or all) among the tags of `repository`, oldest first; parsed once per
   * listing (see {@link TagListing.stageIds}).
   */
  async stageIds(repository: Repository, digest: StageDigest | undefined, options: TagListOptions = {}): Promise<readonly StageId[]> {
    return (await this.listing(repository, options)).stageIds(digest);
  }

  /**
   * Records a tag this process pushed. It shows in the cached listing, and in a listing that was
   * already in flight (which may have been answered before the push).
   */
  recordTag(repository: Repository, tag: string): void {
    this.#mutate(repository.toString(), tag, true);
  }

  /** Records a tag this process deleted (same rules as {@link recordTag}). */
  forgetTag(repository: Repository, tag: string): void {
    this.#mutate(repository.toString(), tag, false);
  }

  #mutate(key: string, tag: string, present: boolean): void {
    const seq = ++this.#seq;
    let log = this.#mutations.get(key);
    if (log === undefined) {
      log = [];
      this.#mutations.set(key, log);
    }
    log.push({ seq, tag, present });
    const listing = this.#byRepository.get(key);
    if (listing !== undefined) this.#byRepository.set(key, present ? listing.with(tag) : listing.without(tag));
  }

  /** Drops the cached listing of one repository, or of all. */
  invalidate(repository?: Repository): void {
    if (repository === undefined) this.#byRepository.clear();
    else this.#byRepository.delete(repository.toString());
  }

  #start(repository: Repository, key: string): Flight {
    const controller = new AbortController();
    this.#listings++;
    const seq = ++this.#seq;
    const promise = this.#client.listTags(repository, { signal: controller.signal }).then((tags) => {
      // The client's array is this listing's own from here on (sorted in place unless already sorted).
      let result = TagListing.of(tags);
      // Pushes and deletes recorded after this listing started may be missing from it.
      for (const m of this.#mutations.get(key) ?? []) if (m.seq > seq) result = m.present ? result.with(m.tag) : result.without(m.tag);
      if ((this.#storedSeq.get(key) ?? 0) < seq) {
        this.#byRepository.set(key, result);
        this.#storedSeq.set(key, seq);
      }
      return result;
    });
    const flight: Flight = { promise, controller, waiters: 0 };
    this.#flights.set(key, flight);
    const clear = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    promise.then(clear, clear);
    return flight;
  }

  async #wait(key: string, flight: Flight, signal: AbortSignal | undefined): Promise<TagListing> {
    flight.waiters++;
    if (signal === undefined) {
      try {
        return await flight.promise;
      } finally {
        flight.waiters--;
      }
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        flight.waiters--;
        if (flight.waiters === 0) {
          // Nobody wants this listing any more: later callers must start a fresh one.
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          flight.controller.abort(abortReason(signal));
        }
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const result = await Promise.race([flight.promise, aborted]);
      flight.waiters--;
      return result;
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }
}


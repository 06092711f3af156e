import { abortReason } from '@strata/errors';
import type { CallOptions, RegistryClient } from './client.js';
import type { Repository } from './reference.js';

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
  readonly promise: Promise<readonly string[]>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * The "one tag listing per repository per build" economy: the first `listTags` of a repository
 * lists it, later calls reuse that result, concurrent calls share one listing, and `live: true`
 * re-lists. Tags this process pushes or deletes are recorded so the cache stays truthful without
 * re-listing. Lives as long as one build; create a new one per build.
 *
 * A shared listing is cancelled only when every caller waiting for it has aborted.
 */
export class TagListCache {
  readonly #client: Pick<RegistryClient, 'listTags'>;
  readonly #tags = new Map<string, string[]>();
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

  /** The sorted tags of `repository` (empty for an unknown repository). */
  async listTags(repository: Repository, options: TagListOptions = {}): Promise<readonly string[]> {
    const key = repository.toString();
    options.signal?.throwIfAborted();
    if (options.live !== true) {
      const cached = this.#tags.get(key);
      if (cached !== undefined) {
        this.#hits++;
        return [...cached];
      }
    }
    let flight = options.live === true ? undefined : this.#flights.get(key);
    if (flight === undefined) {
      flight = this.#start(repository, key);
    } else {
      this.#hits++;
    }
    return [...(await this.#wait(key, flight, options.signal))];
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
    const tags = this.#tags.get(key);
    if (tags !== undefined) this.#tags.set(key, applyMutations(tags, [{ tag, present }]));
  }

  /** Drops the cached listing of one repository, or of all. */
  invalidate(repository?: Repository): void {
    if (repository === undefined) this.#tags.clear();
    else this.#tags.delete(repository.toString());
  }

  #start(repository: Repository, key: string): Flight {
    const controller = new AbortController();
    this.#listings++;
    const seq = ++this.#seq;
    const promise = this.#client.listTags(repository, { signal: controller.signal }).then((tags) => {
      // Pushes and deletes recorded after this listing started may be missing from it.
      const result = applyMutations(tags, (this.#mutations.get(key) ?? []).filter((m) => m.seq > seq));
      if ((this.#storedSeq.get(key) ?? 0) < seq) {
        this.#tags.set(key, result);
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

  async #wait(key: string, flight: Flight, signal: AbortSignal | undefined): Promise<readonly string[]> {
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

function applyMutations(tags: readonly string[], mutations: readonly { tag: string; present: boolean }[]): string[] {
  if (mutations.length === 0) return [...tags];
  const set = new Set(tags);
  for (const m of mutations) {
    if (m.present) set.add(m.tag);
    else set.delete(m.tag);
  }
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

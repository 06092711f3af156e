/**
 * Cache repositories (SPEC §3.2) as a decorator over the primary store (STYLE rule 3): read first,
 * written also, never required.
 */
import type { CallOptions } from '../clock.js';
import { compareStageIds, formatStageId, type StageDigest, type StageId } from '../ids.js';
import type { ListStagesOptions, PublishResult, StageRecord, StageStore } from '../ports/stage-store.js';

export interface CachedStageStoreOptions {
  /**
   * Told about every failed cache operation. Caches can vanish at any time without harm, so their failures
   * never fail a build. @default ignore the failure
   */
  onCacheError?: ((error: unknown, cache: StageStore, operation: 'list' | 'find' | 'publish') => void) | undefined;
}

/**
 * A {@link StageStore} that puts cache stores in front of a primary one:
 * - listing: the union of the primary's and the caches' ids (oldest first);
 * - finding: the caches first (in order); a cache hit the primary lacks is copied into the primary, so the
 *   primary stays the build history; a primary hit is copied into every cache that lacks it;
 * - publishing: to the primary (whose answer is the result), then to every cache.
 * Records returned from a cache hit carry the cache's `imageRef` (the nearer copy).
 */
export class CachedStageStore implements StageStore {
  readonly name: string;
  readonly #primary: StageStore;
  readonly #caches: readonly StageStore[];
  readonly #onCacheError: NonNullable<CachedStageStoreOptions['onCacheError']>;
  readonly #fromCache = new WeakSet<StageRecord>();

  constructor(primary: StageStore, caches: readonly StageStore[], options: CachedStageStoreOptions = {}) {
    this.#primary = primary;
    this.#caches = caches;
    this.name = primary.name;
    this.#onCacheError = options.onCacheError ?? (() => undefined);
  }

  async listStageIds(digest: StageDigest | undefined, options: ListStagesOptions = {}): Promise<readonly StageId[]> {
    const [primary, ...caches] = await Promise.all([
      this.#primary.listStageIds(digest, options),
      ...this.#caches.map((cache) => this.#tryCache(cache, 'list', () => cache.listStageIds(digest, options), [] as readonly StageId[])),
    ]);
    options.signal?.throwIfAborted();
    const byKey = new Map<string, StageId>();
    for (const id of [...(primary ?? []), ...caches.flat()]) byKey.set(formatStageId(id), id);
    return [...byKey.values()].sort(compareStageIds);
  }

  /** Prefetches the primary and every cache at once; a cache's failure is told and ignored, as elsewhere. */
  async prefetch(options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await Promise.all([
      this.#primary.prefetch?.(options),
      ...this.#caches.map((cache) => this.#tryCache(cache, 'list', async () => cache.prefetch?.(options), undefined)),
    ]);
  }

  async findStage(id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    for (const cache of this.#caches) {
      const hit = await this.#tryCache(cache, 'find', () => cache.findStage(id, options), undefined);
      options.signal?.throwIfAborted();
      if (!hit) continue;
      const inPrimary = (await this.#primary.listStageIds(id.digest, options)).some((p) => p.timestampMs === id.timestampMs);
      if (!inPrimary) await this.#primary.publish(hit, options);
      this.#fromCache.add(hit);
      return hit;
    }
    const record = await this.#primary.findStage(id, options);
    if (record) await this.#fillCaches(record, options);
    return record;
  }

  /** Whether `record` was returned by {@link findStage} from a cache (a build reports it as `copied`). */
  servedFromCache(record: StageRecord): boolean {
    return this.#fromCache.has(record);
  }

  async publish(record: StageRecord, options: CallOptions = {}): Promise<PublishResult> {
    const result = await this.#primary.publish(record, options);
    if (result.status === 'stored') await this.#fillCaches(record, options);
    return result;
  }

  async #fillCaches(record: StageRecord, options: CallOptions): Promise<void> {
    await Promise.all(
      this.#caches.map((cache) => this.#tryCache(cache, 'publish', () => cache.publish(record, options), undefined)),
    );
    options.signal?.throwIfAborted();
  }

  async #tryCache<T>(cache: StageStore, operation: 'list' | 'find' | 'publish', run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.#onCacheError(error, cache, operation);
      return fallback;
    }
  }
}

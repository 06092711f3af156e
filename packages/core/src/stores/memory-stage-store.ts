import { abortReason } from '@strata/errors';
import type { CallOptions } from '../clock.js';
import { compareStageIds, formatStageId, type StageDigest, type StageId } from '../ids.js';
import type { ListStagesOptions, PublishResult, StageRecord, StageStore } from '../ports/stage-store.js';

/** The shared state behind {@link MemoryStageStore} clients: one "server" several "processes" talk to. */
export class MemoryStageBackend {
  readonly #stages = new Map<string, StageRecord>();
  /** Ids by digest, oldest first: listings of one digest cost what they return, not the whole store. */
  readonly #byDigest = new Map<string, StageId[]>();

  /** Stored stages by formatted stage id. */
  get stages(): ReadonlyMap<string, StageRecord> {
    return this.#stages;
  }

  /** Ids with `digest` (all when undefined), oldest first; a fresh array. */
  ids(digest: StageDigest | undefined): StageId[] {
    if (digest !== undefined) return [...(this.#byDigest.get(digest) ?? [])];
    return [...this.#byDigest.values()].flat().sort(compareStageIds);
  }

  /** Stores `record` under its id unless that id is taken: then returns the existing record. */
  insert(record: StageRecord): StageRecord | undefined {
    const key = formatStageId(record.id);
    const existing = this.#stages.get(key);
    if (existing) return existing;
    this.#stages.set(key, record);
    const ids = this.#byDigest.get(record.id.digest);
    if (ids) {
      ids.push(record.id);
      ids.sort(compareStageIds);
    } else {
      this.#byDigest.set(record.id.digest, [record.id]);
    }
    return undefined;
  }
}

/** A point-in-time copy of a backend's ids, by digest. */
class IdSnapshot {
  readonly #byDigest = new Map<string, StageId[]>();

  constructor(backend: MemoryStageBackend) {
    for (const id of backend.ids(undefined)) this.add(id);
  }

  add(id: StageId): void {
    const ids = this.#byDigest.get(id.digest);
    if (!ids) this.#byDigest.set(id.digest, [id]);
    else if (!ids.some((known) => known.timestampMs === id.timestampMs)) {
      ids.push(id);
      ids.sort(compareStageIds);
    }
  }

  ids(digest: StageDigest | undefined): StageId[] {
    if (digest !== undefined) return [...(this.#byDigest.get(digest) ?? [])];
    return [...this.#byDigest.values()].flat().sort(compareStageIds);
  }
}

export interface MemoryStageStoreOptions {
  /** @default "memory" */
  name?: string | undefined;
  /** Share one backend between several store objects to model several processes. @default a new backend */
  backend?: MemoryStageBackend | undefined;
  /**
   * Model a remote store's request economy: the first listing takes a snapshot that later non-live
   * listings answer from (plus this object's own publishes); `live: true` refreshes it.
   * @default false (every listing reads the backend)
   */
  snapshotListings?: boolean | undefined;
  /** Prefix of stored image refs: `<repository>:<stage id>`. @default `memory/<name>` */
  repository?: string | undefined;
}

/** Counters of backend requests, for request-economy assertions. */
export interface MemoryStageStoreCalls {
  /** Listings answered by the backend. */
  backendLists: number;
  /** Listings answered from the snapshot. */
  snapshotLists: number;
  find: number;
  publish: number;
}

/**
 * Lets other tasks interleave, as a real backend's I/O would. Microtasks only, so a {@link ManualClock}
 * sees the store as instantaneous and deterministic.
 */
async function yieldToOthers(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await Promise.resolve();
}

/** An in-memory {@link StageStore}: the reference adapter, for tests and for tools that embed the engine. */
export class MemoryStageStore implements StageStore {
  readonly name: string;
  readonly backend: MemoryStageBackend;
  readonly calls: MemoryStageStoreCalls = { backendLists: 0, snapshotLists: 0, find: 0, publish: 0 };
  /** Every image ingested by {@link publish}: the stage id and the source `imageRef`. */
  readonly transfers: { id: string; from: string }[] = [];
  readonly #repository: string;
  readonly #snapshotListings: boolean;
  #snapshot: IdSnapshot | undefined;

  constructor(options: MemoryStageStoreOptions = {}) {
    this.name = options.name ?? 'memory';
    this.backend = options.backend ?? new MemoryStageBackend();
    this.#repository = options.repository ?? `memory/${this.name}`;
    this.#snapshotListings = options.snapshotListings ?? false;
  }

  async listStageIds(digest: StageDigest | undefined, options: ListStagesOptions = {}): Promise<readonly StageId[]> {
    await this.#io(options);
    if (this.#snapshotListings && this.#snapshot && !options.live) {
      this.calls.snapshotLists += 1;
      return this.#snapshot.ids(digest);
    }
    this.calls.backendLists += 1;
    if (this.#snapshotListings) this.#snapshot = new IdSnapshot(this.backend);
    return this.backend.ids(digest);
  }

  async findStage(id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    await this.#io(options);
    this.calls.find += 1;
    return this.backend.stages.get(formatStageId(id));
  }

  async publish(record: StageRecord, options: CallOptions = {}): Promise<PublishResult> {
    await this.#io(options);
    this.calls.publish += 1;
    const key = formatStageId(record.id);
    const stored: StageRecord = { ...record, imageRef: `${this.#repository}:${key}` };
    const existing = this.backend.insert(stored);
    if (existing) return { status: 'conflict', existing };
    this.transfers.push({ id: key, from: record.imageRef });
    this.#snapshot?.add(record.id);
    return { status: 'stored', stage: stored };
  }

  async #io(options: CallOptions): Promise<void> {
    options.signal?.throwIfAborted();
    await yieldToOthers();
    if (options.signal?.aborted) throw abortReason(options.signal);
  }
}

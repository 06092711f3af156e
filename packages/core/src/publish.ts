/**
 * Saving a built stage with optimistic locking (SPEC §4.2): building takes no lock; saving does.
 */
import type { CallOptions, Clock } from './clock.js';
import { CoreError } from './errors.js';
import { formatStageId, stageId, type StageDigest } from './ids.js';
import type { StageLock } from './ports/stage-lock.js';
import type { StageRecord, StageStore } from './ports/stage-store.js';
import { findSuitableStageAmong, type AncestryOracle, type StageQuery } from './selection.js';

/** A freshly built stage: a {@link StageRecord} without the id and save time that publishing assigns. */
export type StageCandidate = Omit<StageRecord, 'id' | 'createdAtMs'> & { readonly digest: StageDigest };

/** Outcome of {@link publishStage}. */
export type SaveResult =
  | { readonly status: 'built'; readonly stage: StageRecord }
  /** Another builder saved a suitable stage first; `stage` is theirs and ours was not saved. */
  | { readonly status: 'discarded'; readonly stage: StageRecord };

export interface PublishStageOptions extends CallOptions {
  store: StageStore;
  lock: StageLock;
  /** The project name: with the digest, the lock key. */
  project: string;
  /** Source of `TIMESTAMP_MILLISEC`. */
  clock: Clock;
  /** What a suitable stage is (the same query the selection used before building). */
  query: StageQuery;
  ancestry: AncestryOracle;
  /** Lease of the publish lock. @default 30000 */
  lockTtlMs?: number | undefined;
  /** How many timestamps to try when the store reports a conflict. @default 20 */
  maxAttempts?: number | undefined;
}

/** The lock key for saving stages of `digest` in `project`. */
export function stageLockKey(project: string, digest: StageDigest): string {
  return `${project}/stage/${digest}`;
}

/**
 * Lock `(project, digest)`; list the store again, live; if a suitable stage appeared meanwhile, adopt it
 * (`discarded`); otherwise save `candidate` under a timestamp unique for the digest in that store
 * (`max(now, newest + 1)`, bumped again on a conflict); unlock. The lock is released on every path.
 *
 * @throws CoreError `LOCK_FAILED` when the lease is lost before saving, `STAGE_PUBLISH_FAILED` when no
 *   free timestamp was found within `maxAttempts`.
 */
export async function publishStage(candidate: StageCandidate, options: PublishStageOptions): Promise<SaveResult> {
  const { store, lock, clock, query, signal } = options;
  const maxAttempts = options.maxAttempts ?? 20;
  const key = stageLockKey(options.project, candidate.digest);
  const handle = await lock.acquire(key, { ttlMs: options.lockTtlMs ?? 30_000, signal });
  try {
    const ids = await store.listStageIds(candidate.digest, { signal, live: true });
    const existing = await findSuitableStageAmong(store, query, { ids, ancestry: options.ancestry, signal });
    if (existing) return { status: 'discarded', stage: existing };

    let timestampMs = Math.max(clock.now(), ...ids.map((id) => id.timestampMs + 1));
    for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
      signal?.throwIfAborted();
      // A lost lease means another builder may be saving this digest now; saving anyway would still be
      // correct (selection takes the oldest), but it breaks the one-stage-per-digest promise, so stop.
      if (!handle.isValid()) {
        throw new CoreError('LOCK_FAILED', `lost the lock ${key} before saving the stage`, {
          hint: 'The lock lease expired; raise the lease (ttl) or check the lock service.',
          data: { key, digest: candidate.digest },
        });
      }
      const { digest: _digest, ...fields } = candidate;
      const record: StageRecord = { ...fields, id: stageId(candidate.digest, timestampMs), createdAtMs: timestampMs };
      const result = await store.publish(record, { signal });
      if (result.status === 'stored') return { status: 'built', stage: result.stage };
      timestampMs = Math.max(timestampMs, result.existing.id.timestampMs) + 1;
    }
    throw new CoreError('STAGE_PUBLISH_FAILED', `no free timestamp for stage ${candidate.digest} in ${store.name}`, {
      hint: 'Another tool keeps saving this digest without Strata\'s lock; check who writes to the store.',
      data: { digest: candidate.digest, store: store.name, lastTried: formatStageId(stageId(candidate.digest, timestampMs)) },
    });
  } finally {
    await handle.release();
  }
}

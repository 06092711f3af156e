/**
 * The `StageStore` port: the stage records of one storage (SPEC §3). Locks are a separate port
 * ({@link StageLock}); so is building ({@link Executor}).
 */
import type { CallOptions } from '../clock.js';
import type { StageDigest, StageId } from '../ids.js';

/**
 * One stored stage. Everything but `id`, `imageRef`, `imageId`, `repoDigest`, `createdAtMs` and `size` is
 * carried by the image's labels (SPEC §3.1, Appendix A); {@link stageLabels} and {@link labelsToRecord}
 * convert between the two so that every adapter writes and reads the same labels.
 */
export interface StageRecord {
  /** `DIGEST-TIMESTAMP_MILLISEC`; also the image tag in Docker and registry stores. */
  readonly id: StageId;
  /** Label `werf`. */
  readonly project: string;
  /** Label `werf-stage-content-digest`: what other images' `fromImage`/imports refer to. */
  readonly contentDigest: string;
  /**
   * Where the stage's image is, as a reference the executor and the store's own image transfer understand
   * (`project:DIGEST-TS` in a Docker store, `repo:DIGEST-TS` in a registry). Opaque to the core.
   */
  readonly imageRef: string;
  /** The image's config digest (`sha256:…`), when the store knows it. */
  readonly imageId?: string | undefined;
  /** The bare registry manifest digest (`sha256:…`), for registry stores only. */
  readonly repoDigest?: string | undefined;
  /** Label `werf.io/parent-stage-id`: the stage this one was built on (absent for a `from` on an external base). */
  readonly parentStageId?: StageId | undefined;
  /**
   * Labels `werf-git-<paramsHash>-commit`: for git-related stages, the commit of each git mapping
   * (keyed by the mapping's parameters hash) that the stage embodies. Empty for other stages.
   */
  readonly commits: Readonly<Record<string, string>>;
  /** Label `werf-project-repo-commit`: the HEAD commit the build ran at. */
  readonly headCommit?: string | undefined;
  /** Labels `werf-import-checksum-<importId>`: the checksum of each import's files. */
  readonly importChecksums: Readonly<Record<string, string>>;
  /** Every label of the image, the ones above included. */
  readonly labels: Readonly<Record<string, string>>;
  /** When the stage was saved, epoch milliseconds (by default the id's timestamp). */
  readonly createdAtMs: number;
  /** Image size in bytes, when the store knows it. */
  readonly size?: number | undefined;
}

/** Outcome of {@link StageStore.publish}: expected outcomes are values (STYLE rule 12). */
export type PublishResult =
  | { readonly status: 'stored'; readonly stage: StageRecord }
  | { readonly status: 'conflict'; readonly existing: StageRecord };

export interface ListStagesOptions extends CallOptions {
  /**
   * Bypass any cached listing and ask the backend now. Used under the publish lock (SPEC §4.2), where a
   * stale answer would let two builders save the same digest.
   * @default false
   */
  live?: boolean | undefined;
}

/**
 * The stage records of one storage: in-memory, the Docker daemon, a registry repository, …
 *
 * Contract (checked by `describeStageStoreContract` from `@strata/core/testing`):
 * - **Listing.** {@link listStageIds} returns the ids of stored stages, with the given digest or all of them,
 *   oldest first (timestamp, then digest), without duplicates. An empty list is a miss, not an error.
 *   Adapters are designed for request economy: a registry store may list tags once per build and
 *   answer from that snapshot; a stage published through the same store object is visible to it at once
 *   (read-your-writes); stages published by others may show up only after a `live` listing.
 * - **Finding.** {@link findStage} returns the record of one stored stage, or `undefined` when that id is
 *   not stored (or its image carries no stage labels). It may cost a request per call: call it only
 *   for ids the selection needs.
 * - **Publishing.** {@link publish} stores a stage under exactly `record.id`. `record.imageRef` names the
 *   image to ingest: an image the executor built, or a stage of another store (copy-on-hit and cache
 *   fill keep the stage id). The store moves the image itself (a tag in Docker, a push or cross-repo
 *   copy in a registry); that transfer is the adapter's business. When a stage with that exact id is
 *   already stored, nothing is written and the result is `{ status: 'conflict', existing }`. Publishing
 *   is atomic per id as far as the backend allows; the optimistic-lock protocol (`publishStage`) is what
 *   makes concurrent publishers of one digest safe, not this method alone.
 * - **Concurrency.** Every method is safe to call concurrently, from many store objects and processes.
 * - **Cancellation.** Every method rejects with the signal's reason once `signal` is aborted.
 * - Stores never delete stages; only cleanup (a later, separate port) will.
 */
export interface StageStore {
  /** A human name for messages and reports (`memory`, `localhost:5000/app`). Never contains credentials. */
  readonly name: string;

  /** Ids of stored stages with `digest` (all stages when it is undefined), oldest first. */
  listStageIds(digest: StageDigest | undefined, options?: ListStagesOptions): Promise<readonly StageId[]>;

  /** The record of a stored stage, or `undefined` when it is not stored here. */
  findStage(id: StageId, options?: CallOptions): Promise<StageRecord | undefined>;

  /** Stores `record` under `record.id` unless that id exists: see the interface contract. */
  publish(record: StageRecord, options?: CallOptions): Promise<PublishResult>;

  /**
   * Optional: starts loading the snapshot that non-live listings are answered from, so that the first
   * lookup of a build does not wait for it (the engine calls it when a build starts, before git work).
   * Changes no answer of the other methods; idempotent; safe to call concurrently with them. It may
   * reject (the engine ignores that): a failed listing is never kept, so a lookup that joins it while
   * in flight reports its failure, and a later one lists again.
   */
  prefetch?(options?: CallOptions): Promise<void>;
}

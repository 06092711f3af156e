/**
 * Stage selection (SPEC §4.1): a pure decision over data ({@link selectStage}) and a thin async layer
 * that gathers the data from stores and git ({@link findSuitableStage}, {@link lookupStage}).
 */
import type { AncestryQuery, GitRepository } from '@strata/git';
import type { CallOptions } from './clock.js';
import { compareStageIds, type StageDigest, type StageId } from './ids.js';
import type { ListStagesOptions, StageRecord, StageStore } from './ports/stage-store.js';

/** What a suitable stage must satisfy. */
export interface StageQuery {
  digest: StageDigest;
  /**
   * Whether the stage is git-related (records commits): then every recorded commit must be an ancestor of,
   * or equal to, the current commit, and a candidate with no recorded commit never qualifies.
   */
  gitRelated: boolean;
  /** The stage selected for the previous stage of the chain: older candidates are dropped. */
  previous?: StageId | undefined;
  /**
   * The parameter hashes of the image's own git mappings. When given, only commits recorded under these
   * keys count: a stage image built on another image's stage inherits that image's
   * `werf-git-<hash>-commit` labels, which say nothing about this image (werf likewise reads only the
   * labels of its own mappings). When absent, every recorded commit counts.
   */
  mappingHashes?: readonly string[] | undefined;
}

/** The commits a candidate records for the mappings the query cares about. */
function recordedCommits(query: StageQuery, candidate: StageRecord): string[] {
  if (query.mappingHashes === undefined) return Object.values(candidate.commits);
  return query.mappingHashes.flatMap((hash) => {
    const commit = candidate.commits[hash];
    return commit === undefined ? [] : [commit];
  });
}

/**
 * Answers "is this commit an ancestor of (or equal to) the current commit?". A commit with no answer
 * counts as "no" (it never makes a candidate suitable).
 */
export type AncestryAnswers = ReadonlyMap<string, boolean> | ((commit: string) => boolean);

function isOldEnough(query: StageQuery, id: StageId): boolean {
  return query.previous === undefined || id.timestampMs >= query.previous.timestampMs;
}

/** The candidates that survive the digest and age filters (steps 2 and 4), oldest first. */
export function eligibleStageIds(query: StageQuery, ids: readonly StageId[]): StageId[] {
  return ids.filter((id) => id.digest === query.digest && isOldEnough(query, id)).sort(compareStageIds);
}

/**
 * The commits whose ancestry {@link selectStage} will ask about for these candidates, deduplicated, so the
 * async shell can answer them in one batch.
 */
export function commitsToCheck(query: StageQuery, candidates: readonly StageRecord[]): string[] {
  if (!query.gitRelated) return [];
  const commits = new Set<string>();
  for (const candidate of candidates) {
    if (candidate.id.digest !== query.digest || !isOldEnough(query, candidate.id)) continue;
    for (const commit of recordedCommits(query, candidate)) commits.add(commit);
  }
  return [...commits];
}

/**
 * Picks the stage to use among stored `candidates` (SPEC §4.1 steps 2–5): same digest; for git-related
 * stages only those whose recorded commits are all ancestors of (or equal to) the current commit; none
 * older than the previous stage's selection; then the oldest `TIMESTAMP_MILLISEC`. `undefined` on a miss.
 */
export function selectStage(
  query: StageQuery,
  candidates: readonly StageRecord[],
  ancestry: AncestryAnswers = new Map(),
): StageRecord | undefined {
  const isAncestor = typeof ancestry === 'function' ? ancestry : (commit: string) => ancestry.get(commit) === true;
  let best: StageRecord | undefined;
  for (const candidate of candidates) {
    if (candidate.id.digest !== query.digest || !isOldEnough(query, candidate.id)) continue;
    if (query.gitRelated) {
      const commits = recordedCommits(query, candidate);
      if (commits.length === 0 || !commits.every((commit) => isAncestor(commit))) continue;
    }
    if (best === undefined || compareStageIds(candidate.id, best.id) < 0) best = candidate;
  }
  return best;
}

/**
 * Answers ancestry questions for a batch of commits against the current commit. Implementations batch the
 * work (one commit-graph walk) and may memoise across calls.
 */
export type AncestryOracle = (commits: readonly string[], options?: CallOptions) => Promise<ReadonlyMap<string, boolean>>;

/**
 * An {@link AncestryOracle} over a {@link GitRepository}: one `isAncestorMany` call per batch of new
 * questions, answers memoised for the oracle's lifetime (one build). The current commit itself is answered
 * without git: a rebuild at the commit of the last build never loads the commit graph.
 */
export function gitAncestryOracle(repository: Pick<GitRepository, 'isAncestorMany'>, currentCommit: string): AncestryOracle {
  const known = new Map<string, boolean>([[currentCommit, true]]);
  return async (commits, options = {}) => {
    const unknown = [...new Set(commits)].filter((commit) => !known.has(commit));
    if (unknown.length > 0) {
      const queries: AncestryQuery[] = unknown.map((ancestor) => ({ ancestor, descendant: currentCommit }));
      const answers = await repository.isAncestorMany(queries, { signal: options.signal });
      unknown.forEach((commit, index) => known.set(commit, answers[index] === true));
    }
    return new Map(commits.map((commit) => [commit, known.get(commit) === true]));
  };
}

/**
 * Finds the suitable stage for `query` in one store: lists ids (from the store's snapshot unless
 * `live`), then fetches only the records the decision needs — for a stage that is not git-related the
 * oldest eligible one (walking on only if a record vanished), for a git-related stage the eligible ones
 * oldest first in batches of 8, each batch's commits answered in one ancestry question, stopping at the
 * first batch with a suitable stage.
 */
export async function findSuitableStage(
  store: StageStore,
  query: StageQuery,
  ancestry: AncestryOracle,
  options: ListStagesOptions = {},
): Promise<StageRecord | undefined> {
  const ids = await store.listStageIds(query.digest, options);
  return findSuitableStageAmong(store, query, { ids, ancestry, signal: options.signal });
}

/** {@link findSuitableStage} over ids already listed (e.g. by a live listing under the publish lock). */
export async function findSuitableStageAmong(
  store: StageStore,
  query: StageQuery,
  options: CallOptions & { ids: readonly StageId[]; ancestry: AncestryOracle },
): Promise<StageRecord | undefined> {
  const { signal, ancestry } = options;
  const ids = eligibleStageIds(query, options.ids);
  if (ids.length === 0) return undefined;
  if (!query.gitRelated) {
    for (const id of ids) {
      const record = await store.findStage(id, { signal });
      const selected = record && selectStage(query, [record]);
      if (selected) return selected;
    }
    return undefined;
  }
  // Oldest first, a batch at a time: the first batch with a suitable stage holds the oldest suitable one,
  // so most lookups fetch one batch of records and ask git one batched question.
  for (let start = 0; start < ids.length; start += FIND_BATCH) {
    const records = (await Promise.all(ids.slice(start, start + FIND_BATCH).map((id) => store.findStage(id, { signal })))).filter(
      (record): record is StageRecord => record !== undefined,
    );
    const commits = commitsToCheck(query, records);
    const answers = commits.length === 0 ? new Map<string, boolean>() : await ancestry(commits, { signal });
    const selected = selectStage(query, records, answers);
    if (selected) return selected;
  }
  return undefined;
}

/** Records fetched concurrently per step when selecting a git-related stage. */
const FIND_BATCH = 8;

/** Where a looked-up stage came from. */
export type StageLookup =
  | { readonly status: 'reused'; readonly stage: StageRecord }
  | { readonly status: 'copied'; readonly stage: StageRecord; readonly from: string };

/** Runs one transfer between stores (a copy-on-hit); the engine bounds these with its executor slots. */
export type TransferGate = <T>(transfer: () => Promise<T>) => Promise<T>;

/** The stores a lookup consults. */
export interface LookupStores {
  /** The store the build writes to (primary repo, or local storage; possibly wrapped with caches). */
  primary: StageStore;
  /** Read-only stores (another installation's primary), consulted in order after a primary miss. */
  secondaries?: readonly StageStore[] | undefined;
  /** Wraps the copy of a secondary hit into the primary. @default runs it directly */
  transfer?: TransferGate | undefined;
}

/**
 * SPEC §4.1 steps 1–6 short of building: the primary first (`reused`); then each secondary in order, and on
 * a hit the stage is copied into the primary under the same stage id (`copied`). `undefined` means build.
 */
export async function lookupStage(
  stores: LookupStores,
  query: StageQuery,
  ancestry: AncestryOracle,
  options: CallOptions = {},
): Promise<StageLookup | undefined> {
  const reused = await findSuitableStage(stores.primary, query, ancestry, options);
  if (reused) return { status: 'reused', stage: reused };
  for (const secondary of stores.secondaries ?? []) {
    const found = await findSuitableStage(secondary, query, ancestry, options);
    if (!found) continue;
    const copy = (): ReturnType<StageStore['publish']> => stores.primary.publish(found, options);
    const result = await (stores.transfer ? stores.transfer(copy) : copy());
    // A conflict means another builder copied the very same stage id first: it is the same stage.
    const stage = result.status === 'stored' ? result.stage : result.existing;
    return { status: 'copied', stage, from: secondary.name };
  }
  return undefined;
}

/**
 * Stage image labels (SPEC §3.1, Appendix A), shared by every adapter that stores stages as images, so
 * that Docker, registry and in-memory stores agree with each other and with werf.
 */
import { BUILD_CACHE_VERSION } from './digest/stage-digest.js';
import { CoreError } from './errors.js';
import { formatStageId, isStageDigest, tryParseStageId, type StageDigest, type StageId } from './ids.js';
import type { StageRecord } from './ports/stage-store.js';

/** werf's label names. */
export const STAGE_LABELS = {
  project: 'werf',
  cacheVersion: 'werf-cache-version',
  stageDigest: 'werf-stage-digest',
  contentDigest: 'werf-stage-content-digest',
  parentStageId: 'werf.io/parent-stage-id',
  headCommit: 'werf-project-repo-commit',
  /** `werf-git-<paramsHash>-commit` */
  gitCommitPrefix: 'werf-git-',
  gitCommitSuffix: '-commit',
  /** `werf-import-checksum-<importId>` */
  importChecksumPrefix: 'werf-import-checksum-',
} as const;


/** The label-borne part of a {@link StageRecord}. */
export interface StageLabelData {
  project: string;
  digest?: StageDigest | undefined;
  contentDigest: string;
  parentStageId?: StageId | undefined;
  commits: Readonly<Record<string, string>>;
  headCommit?: string | undefined;
  importChecksums: Readonly<Record<string, string>>;
}

/** The label key recording one git mapping's commit. */
export function gitCommitLabel(paramsHash: string): string {
  return `${STAGE_LABELS.gitCommitPrefix}${paramsHash}${STAGE_LABELS.gitCommitSuffix}`;
}

/** The label key recording one import's checksum. */
function importChecksumLabel(importId: string): string {
  return `${STAGE_LABELS.importChecksumPrefix}${importId}`;
}

/** The labels a stage image carries for `data` (werf's names and values). */
export function stageLabels(data: StageLabelData): Record<string, string> {
  const labels: Record<string, string> = {
    [STAGE_LABELS.project]: data.project,
    [STAGE_LABELS.cacheVersion]: BUILD_CACHE_VERSION,
    [STAGE_LABELS.contentDigest]: data.contentDigest,
  };
  if (data.digest !== undefined) labels[STAGE_LABELS.stageDigest] = data.digest;
  if (data.parentStageId !== undefined) labels[STAGE_LABELS.parentStageId] = formatStageId(data.parentStageId);
  if (data.headCommit !== undefined) labels[STAGE_LABELS.headCommit] = data.headCommit;
  for (const [hash, commit] of Object.entries(data.commits)) labels[gitCommitLabel(hash)] = commit;
  for (const [id, checksum] of Object.entries(data.importChecksums)) labels[importChecksumLabel(id)] = checksum;
  return labels;
}

/** `record.labels` with the labels derived from the record's fields written over them. */
export function recordToLabels(record: StageRecord): Record<string, string> {
  return {
    ...record.labels,
    ...stageLabels({
      project: record.project,
      digest: record.id.digest,
      contentDigest: record.contentDigest,
      parentStageId: record.parentStageId,
      commits: record.commits,
      headCommit: record.headCommit,
      importChecksums: record.importChecksums,
    }),
  };
}

/**
 * Reads the stage data from image labels. `undefined` when the image is not a stage (no `werf` label).
 * @throws CoreError `INVALID_STAGE_LABELS` when the `werf` label is there but the rest is malformed.
 */
export function readStageLabels(labels: Readonly<Record<string, string>>): StageLabelData | undefined {
  const project = labels[STAGE_LABELS.project];
  if (project === undefined) return undefined;
  const invalid = (what: string): CoreError =>
    new CoreError('INVALID_STAGE_LABELS', `stage image labels are malformed: ${what}`, {
      hint: 'The image was not written by Strata or werf, or its labels were edited; rebuild the stage.',
      data: { labels },
    });
  const contentDigest = labels[STAGE_LABELS.contentDigest];
  if (contentDigest === undefined) throw invalid(`missing ${STAGE_LABELS.contentDigest}`);
  const digestText = labels[STAGE_LABELS.stageDigest];
  if (digestText !== undefined && !isStageDigest(digestText)) throw invalid(`bad ${STAGE_LABELS.stageDigest}`);
  const parentText = labels[STAGE_LABELS.parentStageId];
  const parentStageId = parentText === undefined || parentText === '' ? undefined : tryParseStageId(parentText);
  if (parentText !== undefined && parentText !== '' && parentStageId === undefined) {
    throw invalid(`bad ${STAGE_LABELS.parentStageId}`);
  }
  const commits: Record<string, string> = {};
  const importChecksums: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (
      key.startsWith(STAGE_LABELS.gitCommitPrefix) &&
      key.endsWith(STAGE_LABELS.gitCommitSuffix) &&
      key.length > STAGE_LABELS.gitCommitPrefix.length + STAGE_LABELS.gitCommitSuffix.length
    ) {
      commits[key.slice(STAGE_LABELS.gitCommitPrefix.length, -STAGE_LABELS.gitCommitSuffix.length)] = value;
    } else if (key.startsWith(STAGE_LABELS.importChecksumPrefix)) {
      importChecksums[key.slice(STAGE_LABELS.importChecksumPrefix.length)] = value;
    }
  }
  return {
    project,
    digest: digestText,
    contentDigest,
    parentStageId,
    commits,
    headCommit: labels[STAGE_LABELS.headCommit],
    importChecksums,
  };
}

/** What a store knows about a stage besides its labels. */
export interface StoredImageFacts {
  id: StageId;
  imageRef: string;
  imageId?: string | undefined;
  repoDigest?: string | undefined;
  /** @default id.timestampMs */
  createdAtMs?: number | undefined;
  size?: number | undefined;
}

/**
 * Builds a {@link StageRecord} from an image's labels; `undefined` when the image is not a stage.
 * @throws CoreError `INVALID_STAGE_LABELS` on malformed labels or when `werf-stage-digest` contradicts the id.
 */
export function labelsToRecord(labels: Readonly<Record<string, string>>, facts: StoredImageFacts): StageRecord | undefined {
  const data = readStageLabels(labels);
  if (!data) return undefined;
  if (data.digest !== undefined && data.digest !== facts.id.digest) {
    throw new CoreError('INVALID_STAGE_LABELS', `stage ${formatStageId(facts.id)} is labelled with digest ${data.digest}`, {
      hint: 'The tag and the image do not match; the image was retagged by hand. Rebuild the stage.',
      data: { labels, id: formatStageId(facts.id) },
    });
  }
  return {
    id: facts.id,
    project: data.project,
    contentDigest: data.contentDigest,
    imageRef: facts.imageRef,
    imageId: facts.imageId,
    repoDigest: facts.repoDigest,
    parentStageId: data.parentStageId,
    commits: data.commits,
    headCommit: data.headCommit,
    importChecksums: data.importChecksums,
    labels: { ...labels },
    createdAtMs: facts.createdAtMs ?? facts.id.timestampMs,
    size: facts.size,
  };
}

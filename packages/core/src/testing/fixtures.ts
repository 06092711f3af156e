import { createHash } from 'node:crypto';
import { parseStageDigest, stageId, type StageDigest } from '../ids.js';
import { stageLabels } from '../labels.js';
import type { StageRecord } from '../ports/stage-store.js';

/** A valid stage digest derived from `seed` (SHA3-224 of it). */
export function testDigest(seed: string): StageDigest {
  return parseStageDigest(createHash('sha3-224').update(seed).digest('hex'));
}

/** A fake 40-hex commit id derived from `seed`. */
export function testCommit(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

/** A consistent {@link StageRecord} (labels match fields) for tests; override any field. */
export function testStageRecord(
  digest: StageDigest,
  timestampMs: number,
  overrides: Partial<Omit<StageRecord, 'id'>> = {},
): StageRecord {
  const id = stageId(digest, timestampMs);
  const project = overrides.project ?? 'demo';
  const contentDigest = overrides.contentDigest ?? `content-${digest.slice(0, 12)}`;
  const commits = overrides.commits ?? {};
  const importChecksums = overrides.importChecksums ?? {};
  const labels = stageLabels({
    project,
    digest,
    contentDigest,
    parentStageId: overrides.parentStageId,
    commits,
    headCommit: overrides.headCommit,
    importChecksums,
  });
  return {
    imageRef: `test/${digest.slice(0, 12)}:${timestampMs}`,
    createdAtMs: timestampMs,
    ...overrides,
    id,
    project,
    contentDigest,
    commits,
    importChecksums,
    labels: { ...labels, ...overrides.labels },
  };
}

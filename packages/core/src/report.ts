/**
 * The build report (SPEC §4.5): werf's build report shape, field names included, plus Strata's
 * `Digest`, `StageID` and `Status`.
 */
import type { DigestInput } from './digest/inputs.js';
import { formatStageId, type StageName } from './ids.js';
import type { StageRecord } from './ports/stage-store.js';

/** How a stage was obtained: found in the primary/local store, copied from a secondary or cache, built, or built but another builder's stage was used. */
export type StageStatus = 'reused' | 'copied' | 'built' | 'discarded';

export interface StageReport {
  Name: StageName;
  DockerImageName: string;
  DockerTag: string;
  DockerImageID: string;
  /** Bare registry digest (`sha256:…`); empty for local storage. */
  DockerImageDigest: string;
  /** Save time, epoch milliseconds. */
  CreatedAt: number;
  Size: number;
  Rebuilt: boolean;
  /** Seconds, two decimals (`"0.42"`). */
  BuildTime: string;
  Digest: string;
  StageID: string;
  Status: StageStatus;
}

export interface ImageReport {
  WerfImageName: string;
  DockerRepo: string;
  DockerTag: string;
  DockerImageID: string;
  DockerImageDigest: string;
  DockerImageName: string;
  /** True when any stage of the image was built. */
  Rebuilt: boolean;
  Final: boolean;
  Size: number;
  BuildTime: string;
  /** The git commit the build ran at. */
  Commit: string;
  Stages: StageReport[];
}

export interface BuildReport {
  /** By image key; the nameless image is `~`. */
  Images: Record<string, ImageReport>;
}

/** One stage's outcome, as the engine records it. */
export interface StageOutcome {
  name: StageName;
  stage: StageRecord;
  status: StageStatus;
  /** Time spent obtaining the stage (lookup, build, publish). */
  durationMs: number;
  /** The digest's labelled inputs (for `explain`), when the engine computed them. */
  inputs?: readonly DigestInput[] | undefined;
}

/** One image's outcome, as the engine records it. */
export interface ImageOutcome {
  /** Image key (`~` for the nameless image). */
  image: string;
  final: boolean;
  commit: string;
  /** Stages in conveyor order; the last one is the image. */
  stages: StageOutcome[];
  durationMs: number;
}

/** Splits `repo:tag` (the tag is after the last `:` that follows the last `/`). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const named = at >= 0 ? ref.slice(0, at) : ref;
  const colon = named.lastIndexOf(':');
  if (colon > named.lastIndexOf('/')) return { repo: named.slice(0, colon), tag: named.slice(colon + 1) };
  return { repo: named, tag: '' };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

function stageReport(outcome: StageOutcome): StageReport {
  const { stage } = outcome;
  return {
    Name: outcome.name,
    DockerImageName: stage.imageRef,
    DockerTag: splitImageRef(stage.imageRef).tag,
    DockerImageID: stage.imageId ?? '',
    DockerImageDigest: stage.repoDigest ?? '',
    CreatedAt: stage.createdAtMs,
    Size: stage.size ?? 0,
    Rebuilt: outcome.status === 'built',
    BuildTime: seconds(outcome.durationMs),
    Digest: stage.id.digest,
    StageID: formatStageId(stage.id),
    Status: outcome.status,
  };
}

/** The report for a set of image outcomes (pure). Images without stages are left out. */
export function buildReport(outcomes: readonly ImageOutcome[]): BuildReport {
  const Images: Record<string, ImageReport> = {};
  for (const outcome of outcomes) {
    const last = outcome.stages.at(-1);
    if (!last) continue;
    const { repo, tag } = splitImageRef(last.stage.imageRef);
    Images[outcome.image] = {
      WerfImageName: outcome.image,
      DockerRepo: repo,
      DockerTag: tag,
      DockerImageID: last.stage.imageId ?? '',
      DockerImageDigest: last.stage.repoDigest ?? '',
      DockerImageName: last.stage.imageRef,
      Rebuilt: outcome.stages.some((s) => s.status === 'built'),
      Final: outcome.final,
      Size: last.stage.size ?? 0,
      BuildTime: seconds(outcome.durationMs),
      Commit: outcome.commit,
      Stages: outcome.stages.map(stageReport),
    };
  }
  return { Images };
}

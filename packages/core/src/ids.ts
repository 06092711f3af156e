/**
 * Identity value types (STYLE rule 7): parsed once at the boundary, then trusted everywhere.
 */
import { CoreError } from './errors.js';

declare const stageDigestBrand: unique symbol;

/** A stage digest: 56 lowercase hex characters (SHA3-224), werf's stage cache key. */
export type StageDigest = string & { readonly [stageDigestBrand]: true };

const STAGE_DIGEST = /^[0-9a-f]{56}$/;

/** True when `value` is a well-formed {@link StageDigest}. */
export function isStageDigest(value: unknown): value is StageDigest {
  return typeof value === 'string' && STAGE_DIGEST.test(value);
}

/**
 * Parses a stage digest.
 * @throws CoreError `INVALID_STAGE_DIGEST` unless `value` is exactly 56 lowercase hex characters.
 */
export function parseStageDigest(value: string): StageDigest {
  if (isStageDigest(value)) return value;
  throw new CoreError('INVALID_STAGE_DIGEST', `invalid stage digest ${JSON.stringify(value)}`, {
    hint: 'A stage digest is 56 lowercase hexadecimal characters (SHA3-224).',
    data: { value },
  });
}

/**
 * A stored stage's identity: its digest plus the millisecond timestamp chosen when it was saved,
 * unique for that digest within one store. Text form: `DIGEST-TIMESTAMP_MILLISEC` (also the image tag).
 */
export interface StageId {
  readonly digest: StageDigest;
  /** Non-negative safe integer, milliseconds since the Unix epoch (by convention). */
  readonly timestampMs: number;
}

// No leading zeros so that parse ∘ format is the identity on text as well as on values.
const STAGE_ID = /^([0-9a-f]{56})-(0|[1-9][0-9]{0,15})$/;

/** Parses `DIGEST-TIMESTAMP_MILLISEC`; `undefined` when `value` is not a stage id (e.g. an unrelated tag). */
export function tryParseStageId(value: string): StageId | undefined {
  const match = STAGE_ID.exec(value);
  if (!match) return undefined;
  const timestampMs = Number(match[2]);
  if (!Number.isSafeInteger(timestampMs)) return undefined;
  return { digest: match[1] as StageDigest, timestampMs };
}

/**
 * Parses `DIGEST-TIMESTAMP_MILLISEC`.
 * @throws CoreError `INVALID_STAGE_ID` when `value` is not of that form.
 */
export function parseStageId(value: string): StageId {
  const id = tryParseStageId(value);
  if (id) return id;
  throw new CoreError('INVALID_STAGE_ID', `invalid stage id ${JSON.stringify(value)}`, {
    hint: 'A stage id is DIGEST-TIMESTAMP_MILLISEC: 56 lowercase hex characters, a dash, and a millisecond timestamp.',
    data: { value },
  });
}

/** Builds a stage id, validating the timestamp. */
export function stageId(digest: StageDigest, timestampMs: number): StageId {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new CoreError('INVALID_STAGE_ID', `invalid stage timestamp ${String(timestampMs)}`, {
      hint: 'A stage timestamp is a non-negative integer number of milliseconds.',
      data: { digest, timestampMs },
    });
  }
  return { digest, timestampMs };
}

/** `DIGEST-TIMESTAMP_MILLISEC`, the stage's tag in every store. */
export function formatStageId(id: StageId): string {
  return `${id.digest}-${id.timestampMs}`;
}

/** True when both ids name the same stored stage. */
export function sameStageId(a: StageId, b: StageId): boolean {
  return a.digest === b.digest && a.timestampMs === b.timestampMs;
}

/** Orders ids by timestamp, then digest: "oldest first" as SPEC §4.1 selection needs. */
export function compareStageIds(a: StageId, b: StageId): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs - b.timestampMs;
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

/** Names of the stages of werf's conveyors (SPEC §2.1), in the stapel order, then the Dockerfile stage. */
export type StageName =
  | 'from'
  | 'beforeInstall'
  | 'dependenciesBeforeInstall'
  | 'gitArchive'
  | 'install'
  | 'dependenciesAfterInstall'
  | 'beforeSetup'
  | 'dependenciesBeforeSetup'
  | 'setup'
  | 'dependenciesAfterSetup'
  | 'gitCache'
  | 'gitLatestPatch'
  | 'dockerInstructions'
  | 'dockerfile'
  | 'imageSpec';

/** The full stapel conveyor in order (SPEC §2.1); `imageSpec` only when the image has one. */
export const STAPEL_STAGE_NAMES = [
  'from',
  'beforeInstall',
  'dependenciesBeforeInstall',
  'gitArchive',
  'install',
  'dependenciesAfterInstall',
  'beforeSetup',
  'dependenciesBeforeSetup',
  'setup',
  'dependenciesAfterSetup',
  'gitCache',
  'gitLatestPatch',
  'dockerInstructions',
  'imageSpec',
] as const satisfies readonly StageName[];

/** The Dockerfile conveyor in order; `imageSpec` only when the image has one. */
export const DOCKERFILE_STAGE_NAMES = ['dockerfile', 'imageSpec'] as const satisfies readonly StageName[];

/** Every stage name, stapel order first. */
export const STAGE_NAMES: readonly StageName[] = [...STAPEL_STAGE_NAMES.slice(0, -1), 'dockerfile', 'imageSpec'];

const STAGE_NAME_SET: ReadonlySet<string> = new Set(STAGE_NAMES);

/** True when `value` names a stage. */
export function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && STAGE_NAME_SET.has(value);
}

/**
 * Parses a stage name.
 * @throws CoreError `INVALID_STAGE_NAME` for anything else.
 */
export function parseStageName(value: string): StageName {
  if (isStageName(value)) return value;
  throw new CoreError('INVALID_STAGE_NAME', `unknown stage name ${JSON.stringify(value)}`, {
    hint: `Stage names are: ${STAGE_NAMES.join(', ')}.`,
    data: { value },
  });
}

/**
 * Stages that always carry git commits (SPEC §2.2). `install`, `beforeSetup` and `setup` are git-related
 * too, but only for images that have git mappings; see {@link isGitRelatedStage}.
 */
export const GIT_STAGE_NAMES = ['gitArchive', 'gitCache', 'gitLatestPatch'] as const satisfies readonly StageName[];

/** Whether a stage of an image records git commits and is selected by commit ancestry (SPEC §2.2, §4.1). */
export function isGitRelatedStage(name: StageName, imageHasGitMappings: boolean): boolean {
  if (!imageHasGitMappings) return false;
  return (
    name === 'gitArchive' ||
    name === 'gitCache' ||
    name === 'gitLatestPatch' ||
    name === 'install' ||
    name === 'beforeSetup' ||
    name === 'setup'
  );
}

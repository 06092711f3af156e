/**
 * The stage digest and content digest formulas (SPEC §2.2, Appendix A).
 *
 * werf facts (read in `pkg/build/build_phase.go`, `calculateDigest`):
 * - digest = SHA3-224 of `[platform?] "1.2" name deps [prevDigest prevNextDeps]` joined with `:::`;
 *   `linux/amd64` (and an unset platform) is left out "for compatibility with currently built stages".
 * - `name` is the legacy name for the four dependency stages (`GetLegacyCompatibleStageName`).
 * - content digest (label `werf-stage-content-digest`) of a stage being built = `calculateDigest` with
 *   name `<stage name>-content` (the current, non-legacy name), empty dependencies, and the stage itself
 *   as "previous stage": its digest and its own next-stage dependencies (the sorted commits it embodies).
 *   A stage taken from storage keeps the content digest stored in its label.
 */
import type { StageName } from '../ids.js';
import { sha3HashArgs } from './hash.js';
import { digestInput, nestedInput, type DigestInput } from './inputs.js';

/** werf's build cache version, the second argument of every digest. */
export const BUILD_CACHE_VERSION = '1.2';

/** The platform werf leaves out of digests. */
export const DEFAULT_DIGEST_PLATFORM = 'linux/amd64';

const LEGACY_NAMES: Partial<Record<StageName, string>> = {
  dependenciesBeforeInstall: 'importsBeforeInstall',
  dependenciesAfterInstall: 'importsAfterInstall',
  dependenciesBeforeSetup: 'importsBeforeSetup',
  dependenciesAfterSetup: 'importsAfterSetup',
};

/** The name a stage is hashed under: legacy `imports*` names for the dependency stages. */
export function legacyStageName(name: StageName): string {
  return LEGACY_NAMES[name] ?? name;
}

/** The previous non-empty stage, as the digest of the next stage sees it. */
export interface PreviousStageDigestInput {
  /** The previous stage's digest. */
  digest: string;
  /**
   * Its "next stage dependencies": `H(sorted commits)` after a git-related stage, `""` otherwise
   * (see `nextStageDependencies`). An input (with parts) is accepted so `explain` can show the commits.
   */
  nextDeps: string | DigestInput;
}

export interface StageDigestRequest {
  /** Target platform; omitted from the digest when absent or `linux/amd64`. */
  platform?: string | undefined;
  stageName: StageName;
  /** The stage's dependencies: a checksum, or the labelled inputs it is the checksum of. */
  dependencies: string | DigestInput;
  /** Absent for the first stage of a conveyor (the last two arguments are then absent, not empty). */
  prev?: PreviousStageDigestInput | undefined;
}

function platformInputs(platform: string | undefined): DigestInput[] {
  return platform === undefined || platform === '' || platform === DEFAULT_DIGEST_PLATFORM
    ? []
    : [digestInput('platform', platform)];
}

function asInput(label: string, value: string | DigestInput): DigestInput {
  return typeof value === 'string' ? digestInput(label, value) : { ...value, label };
}

/** The labelled arguments of the stage digest, in hashing order. */
export function stageDigestInputs(request: StageDigestRequest): DigestInput[] {
  const inputs = [
    ...platformInputs(request.platform),
    digestInput('build cache version', BUILD_CACHE_VERSION),
    digestInput('stage name', legacyStageName(request.stageName)),
    asInput('stage dependencies', request.dependencies),
  ];
  if (request.prev) {
    inputs.push(digestInput('previous stage digest', request.prev.digest));
    inputs.push(asInput('previous stage next dependencies', request.prev.nextDeps));
  }
  return inputs;
}

/** SHA3-224 over labelled inputs' values joined with `:::`. */
export function sha3Inputs(inputs: readonly DigestInput[]): string {
  return sha3HashArgs(...inputs.map((entry) => entry.value));
}

/** The stage digest (56 hex characters). */
export function stageDigest(request: StageDigestRequest): string {
  return sha3Inputs(stageDigestInputs(request));
}

export interface ContentDigestRequest {
  platform?: string | undefined;
  stageName: StageName;
  /** The stage's own digest. */
  digest: string;
  /** The stage's own next-stage dependencies (commits it embodies; `""` for non-git stages). */
  nextDeps: string | DigestInput;
}

/** The labelled arguments of the content digest. */
export function contentDigestInputs(request: ContentDigestRequest): DigestInput[] {
  return [
    ...platformInputs(request.platform),
    digestInput('build cache version', BUILD_CACHE_VERSION),
    digestInput('stage name', `${request.stageName}-content`),
    digestInput('stage dependencies', ''),
    digestInput('stage digest', request.digest),
    asInput('stage next dependencies', request.nextDeps),
  ];
}

/** The content digest of a stage being built (label `werf-stage-content-digest`). */
export function stageContentDigest(request: ContentDigestRequest): string {
  return sha3Inputs(contentDigestInputs(request));
}

/**
 * A stage's "next stage dependencies" (werf's `GetNextStageDependencies`): for a git-related stage,
 * `H(sorted commits)` where the commits are those recorded on the stage (selected from storage) or, for a
 * stage being built, the current commit of each mapping; `""` for every other stage.
 */
export function nextStageDependencies(commits: readonly string[] | undefined): DigestInput {
  if (commits === undefined) return digestInput('next stage dependencies', '');
  const sorted = [...commits].sort();
  return nestedInput(
    'next stage dependencies',
    sorted.map((commit, index) => digestInput(`commit[${index}]`, commit)),
  );
}

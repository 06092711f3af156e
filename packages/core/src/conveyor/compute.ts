/**
 * Stage-by-stage digest calculation: the pure part. Facts (git checksums, patches, other images'
 * content digests, import checksums) are gathered first (`gatherStageFacts`, or by the engine), then
 * turned into labelled inputs and a digest here.
 *
 * The previous stage matters twice: its digest, and — when it is git-related — the commits recorded on
 * the stage that was actually SELECTED from storage (SPEC §2.2: not HEAD). That is why digests are
 * computed one stage at a time, after the engine has selected (or decided to build) the previous one.
 */
import type { StapelImage } from '@strata/config';
import type { StageDigest, StageName } from '../ids.js';
import { DigestError } from '../digest/errors.js';
import { nestedInput, type DigestInput } from '../digest/inputs.js';
import {
  contentDigestInputs,
  nextStageDependencies,
  sha3Inputs,
  stageDigestInputs,
} from '../digest/stage-digest.js';
import {
  beforeInstallStageInputs,
  dependenciesStageInputs,
  dockerInstructionsStageInputs,
  fromStageInputs,
  gitArchiveStageInputs,
  gitCacheStageInputs,
  gitLatestPatchStageInputs,
  imageSpecStageInputs,
  resolveFromBase,
  userStageInputs,
  type DependencyFacts,
  type ImportFacts,
  type MappingPatch,
  type MappingStageDependencies,
} from '../digest/stages.js';
import { dependenciesOfStage, importsOfStage, type ImageConveyor, type StagePlan } from './plan.js';

/**
 * What a stage's digest depends on beyond the config. Each field is needed by some stages only;
 * {@link computeStageDigest} throws `MISSING_STAGE_FACTS` when a needed one is absent.
 */
export interface StageFacts {
  /** `from` of a stapel image based on another config image: that image's content digest. */
  baseImageContentDigest?: string | undefined;
  /** `install`/`beforeSetup`/`setup`: one entry per git mapping, in mapping order. */
  stageDependencies?: readonly MappingStageDependencies[] | undefined;
  /** `gitCache`: full-context patch size per mapping since the previous built stage's commit. */
  patchSizes?: readonly number[] | undefined;
  /** `gitLatestPatch`: the patch per mapping since the previous built stage's commit. */
  patches?: readonly MappingPatch[] | undefined;
  /** `dependencies*`: per import of the stage (see `importsOfStage`), in order. */
  imports?: readonly ImportFacts[] | undefined;
  /** `dependencies*`: per dependency of the stage (see `dependenciesOfStage`), in order. */
  dependencies?: readonly DependencyFacts[] | undefined;
  /** `dockerfile`: the stage's inputs, from `dockerfileStageInputs`. */
  dockerfile?: readonly DigestInput[] | undefined;
}

/** The previous non-empty stage of the conveyor, as selected from storage or being built. */
export interface PreviousStage {
  /** Its digest. */
  digest: string;
  /** Its plan's `gitRelated`. */
  gitRelated: boolean;
  /**
   * For a git-related stage: the commits recorded on the stage SELECTED from storage (its
   * `werf-git-*-commit` labels), or, when it is being built, the current commit of each mapping.
   * Ignored for other stages.
   */
  commits?: readonly string[] | undefined;
}

export interface ComputeStageDigestOptions {
  /** Absent for the conveyor's first stage. */
  prev?: PreviousStage | undefined;
  facts?: StageFacts | undefined;
}

/** The outcome of one stage's digest calculation. */
export type StageDigestResult =
  | {
      kind: 'empty';
      stage: StageName;
      /** Why the stage has nothing to do (it is skipped; the next stage uses the same previous stage). */
      reason: string;
    }
  | {
      kind: 'digest';
      stage: StageName;
      digest: StageDigest;
      /** The stage's dependencies string (`H(inputs)`). */
      dependencies: string;
      /**
       * Every input of the digest, labelled and in hashing order: platform?, build cache version, stage
       * name, stage dependencies (with its parts), previous digest?, previous next dependencies?.
       */
      inputs: readonly DigestInput[];
    };

function need<T>(conveyor: ImageConveyor, stage: StageName, name: keyof StageFacts, value: T | undefined): T {
  if (value !== undefined) return value;
  throw new DigestError('MISSING_STAGE_FACTS', `stage ${stage} of image ${conveyor.imageKey} needs facts.${name}`, {
    hint: 'Gather the stage facts (gatherStageFacts) before computing its digest.',
    data: { image: conveyor.imageKey, stage, missing: name },
  });
}

function stapel(conveyor: ImageConveyor, stage: StageName): StapelImage {
  if (conveyor.image.kind === 'stapel') return conveyor.image;
  throw new DigestError('MISSING_STAGE_FACTS', `stage ${stage} does not belong to Dockerfile image ${conveyor.imageKey}`, {
    data: { image: conveyor.imageKey, stage },
  });
}

/**
 * The labelled inputs whose `H(...)` is a stage's dependencies string, or a reason when the stage turns
 * out empty. Pure.
 */
export function stageDependencyInputs(
  conveyor: ImageConveyor,
  stage: StageName,
  facts: StageFacts = {},
): DigestInput[] | { empty: string } {
  switch (stage) {
    case 'dockerfile':
      return [...need(conveyor, stage, 'dockerfile', facts.dockerfile)];
    case 'imageSpec':
      return conveyor.imageSpec ? imageSpecStageInputs(conveyor.imageSpec) : { empty: 'the image has no imageSpec' };
    case 'from': {
      const image = stapel(conveyor, stage);
      const base = resolveFromBase(image.from, facts.baseImageContentDigest);
      return fromStageInputs({
        imageCacheVersion: conveyor.cacheVersion,
        fromCacheVersion: image.fromCacheVersion,
        mounts: image.mounts,
        base: need(conveyor, stage, 'baseImageContentDigest', base),
      });
    }
    case 'beforeInstall': {
      const inputs = beforeInstallStageInputs(stapel(conveyor, stage).shell);
      return inputs.length > 0 ? inputs : { empty: 'no beforeInstall commands or cache versions' };
    }
    case 'install':
    case 'beforeSetup':
    case 'setup': {
      const image = stapel(conveyor, stage);
      const mappings = conveyor.gitMappings.length === 0 ? [] : need(conveyor, stage, 'stageDependencies', facts.stageDependencies);
      const inputs = userStageInputs(image.shell, { stage, mappings });
      return inputs[0]?.value === '' ? { empty: `no ${stage} commands or cache versions` } : inputs;
    }
    case 'dependenciesBeforeInstall':
    case 'dependenciesAfterInstall':
    case 'dependenciesBeforeSetup':
    case 'dependenciesAfterSetup': {
      const image = stapel(conveyor, stage);
      const imports = importsOfStage(image, stage);
      const dependencies = dependenciesOfStage(image, stage);
      if (imports.length === 0 && dependencies.length === 0) return { empty: 'no imports or dependencies' };
      const importFacts = imports.length === 0 ? [] : need(conveyor, stage, 'imports', facts.imports);
      const dependencyFacts = dependencies.length === 0 ? [] : need(conveyor, stage, 'dependencies', facts.dependencies);
      return dependenciesStageInputs(
        imports.map((config, index) => ({ config, facts: need(conveyor, stage, 'imports', importFacts[index]) })),
        dependencies.map((config, index) => ({ config, facts: need(conveyor, stage, 'dependencies', dependencyFacts[index]) })),
      );
    }
    case 'gitArchive':
      return conveyor.gitMappings.length === 0
        ? { empty: 'no git mappings' }
        : gitArchiveStageInputs(conveyor.gitMappings.map((mapping) => mapping.config));
    case 'gitCache':
      if (conveyor.gitMappings.length === 0) return { empty: 'no git mappings' };
      return gitCacheStageInputs(need(conveyor, stage, 'patchSizes', facts.patchSizes)) ?? { empty: 'patch since the previous built stage is under 1 MiB' };
    case 'gitLatestPatch':
      if (conveyor.gitMappings.length === 0) return { empty: 'no git mappings' };
      return gitLatestPatchStageInputs(need(conveyor, stage, 'patches', facts.patches)) ?? { empty: 'no changes since the previous built stage' };
    case 'dockerInstructions':
      return dockerInstructionsStageInputs(stapel(conveyor, stage).docker) ?? { empty: 'no docker directives' };
  }
}

/** The "next stage dependencies" of a previous stage, as an input (commits shown as parts). */
function prevNextDeps(prev: PreviousStage): DigestInput {
  if (!prev.gitRelated) return nextStageDependencies(undefined);
  return nextStageDependencies(prev.commits ?? []);
}

/**
 * Computes one stage's digest from its plan, the previous non-empty stage and the gathered facts.
 * Pure: the same arguments always give the same result.
 */
export function computeStageDigest(
  conveyor: ImageConveyor,
  stage: StagePlan | StageName,
  options: ComputeStageDigestOptions = {},
): StageDigestResult {
  const name = typeof stage === 'string' ? stage : stage.name;
  const dependencyInputs = stageDependencyInputs(conveyor, name, options.facts);
  if (!Array.isArray(dependencyInputs)) return { kind: 'empty', stage: name, reason: dependencyInputs.empty };
  const dependencies = nestedInput('stage dependencies', dependencyInputs);
  const inputs = stageDigestInputs({
    platform: conveyor.platform,
    stageName: name,
    dependencies,
    prev: options.prev ? { digest: options.prev.digest, nextDeps: prevNextDeps(options.prev) } : undefined,
  });
  return {
    kind: 'digest',
    stage: name,
    digest: sha3Inputs(inputs) as StageDigest,
    dependencies: dependencies.value as string,
    inputs,
  };
}

/**
 * The content digest (label `werf-stage-content-digest`) of a stage being BUILT: its digest plus the
 * commits it embodies (the current commit of each mapping for a git-related stage). A stage selected
 * from storage keeps the content digest stored on it.
 */
export function computeContentDigest(
  conveyor: ImageConveyor,
  request: {
    stage: StagePlan;
    /** The stage's digest. */
    digest: string;
    /** The commits it embodies (see `currentCommits`); ignored for a stage that is not git-related. */
    commits?: readonly string[] | undefined;
  },
): string {
  const { stage, digest, commits = [] } = request;
  return sha3Inputs(
    contentDigestInputs({
      platform: conveyor.platform,
      stageName: stage.name,
      digest,
      nextDeps: nextStageDependencies(stage.gitRelated ? commits : undefined),
    }),
  );
}

/** The commits a git-related stage being built at `commit` records: one per mapping. */
export function currentCommits(conveyor: ImageConveyor, commit: string): string[] {
  return conveyor.gitMappings.map(() => commit);
}

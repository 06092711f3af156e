/**
 * Stage conveyors (SPEC §2.1): which stages an image has, in order, before any digest is computed.
 *
 * Planning is pure and uses the config only. Stages whose existence depends on git state (`gitCache`:
 * patch ≥ 1 MiB; `gitLatestPatch`: a non-empty patch) are planned as `conditional`: digest calculation
 * reports them empty when the gathered facts say so, and the engine then skips them.
 */
import type {
  Dependency,
  Import,
  ResolvedBuildSettings,
  ResolvedImage,
  ResolvedImageSpec,
  StageAnchor,
  StapelImage,
} from '@strata/config';
import { isGitRelatedStage, type StageName } from '../ids.js';
import { gitCommitLabel, gitMappingParamsHash } from '../digest/git-mapping.js';
import { dockerInstructionsStageInputs, shellChecksum } from '../digest/stages.js';
import type { GitMapping } from '@strata/config';

/** A git mapping of the image with its identity. */
export interface ConveyorGitMapping {
  /** Position in the image's `git` list. */
  readonly index: number;
  readonly config: GitMapping;
  /** werf's parameters hash of the mapping. */
  readonly paramsHash: string;
  /** `werf-git-<paramsHash>-commit`: the label a git-related stage records the mapping's commit under. */
  readonly commitLabel: string;
}

/** One planned stage. */
export interface StagePlan {
  readonly name: StageName;
  /**
   * Records git commits (SPEC §2.2): selected by commit ancestry, and the next stage's digest depends
   * on the commits recorded on the stage actually selected.
   */
  readonly gitRelated: boolean;
  /** Exists only when the gathered git facts say so (`gitCache`, `gitLatestPatch`). */
  readonly conditional: boolean;
}

/** An image's conveyor: the stages it may have, in order, and what they are computed from. */
export interface ImageConveyor {
  readonly image: ResolvedImage;
  /** The image's key (`name`, or `~` for the nameless image). */
  readonly imageKey: string;
  /** Target platform, when one was configured (left out of digests for `linux/amd64`). */
  readonly platform: string | undefined;
  /** Effective cache version: the image's `cacheVersion`, else `build.cacheVersion` (werf: local wins). */
  readonly cacheVersion: string | undefined;
  /** The image's `imageSpec`; for a final image without one, the global `build.imageSpec`. */
  readonly imageSpec: ResolvedImageSpec | undefined;
  readonly gitMappings: readonly ConveyorGitMapping[];
  readonly stages: readonly StagePlan[];
}

export interface PlanConveyorOptions {
  /** The config's `build` section (global cache version, platform, image spec). @default {} */
  build?: Partial<Pick<ResolvedBuildSettings, 'cacheVersion' | 'platform' | 'imageSpec'>> | undefined;
  /**
   * The platform images are built for when the config names none: the host's (werf targets the build
   * host's platform by default). Digests leave out `linux/amd64`, so on such hosts it changes nothing.
   * @default the config's single `build.platform`, else none (hashed like linux/amd64)
   */
  hostPlatform?: string | undefined;
}

type DependencyStageName =
  | 'dependenciesBeforeInstall'
  | 'dependenciesAfterInstall'
  | 'dependenciesBeforeSetup'
  | 'dependenciesAfterSetup';

const ANCHORS: Record<DependencyStageName, StageAnchor> = {
  dependenciesBeforeInstall: { before: 'install' },
  dependenciesAfterInstall: { after: 'install' },
  dependenciesBeforeSetup: { before: 'setup' },
  dependenciesAfterSetup: { after: 'setup' },
};

function sameAnchor(a: StageAnchor | undefined, b: StageAnchor): boolean {
  if (a === undefined) return false;
  if ('before' in a) return 'before' in b && a.before === b.before;
  return 'after' in b && a.after === b.after;
}

/** True for the four `dependencies*` stages. */
export function isDependencyStage(name: StageName): name is DependencyStageName {
  return name in ANCHORS;
}

/** The imports a `dependencies*` stage performs, in config order (werf `getImports`). */
export function importsOfStage(image: StapelImage, stage: StageName): Import[] {
  if (!isDependencyStage(stage)) return [];
  const anchor = ANCHORS[stage];
  return image.imports.filter((entry) => sameAnchor(entry.stage, anchor));
}

/** The dependencies a `dependencies*` stage sets up, in config order (werf `getDependencies`). */
export function dependenciesOfStage(image: StapelImage, stage: StageName): Dependency[] {
  if (!isDependencyStage(stage)) return [];
  const anchor = ANCHORS[stage];
  return image.dependencies.filter((entry) => sameAnchor(entry.stage, anchor));
}

function platformOf(build: PlanConveyorOptions['build']): string | undefined {
  const platforms = build?.platform ?? [];
  return platforms.length === 1 ? platforms[0] : undefined;
}

/**
 * Plans an image's conveyor.
 *
 * - Dockerfile image: `dockerfile`, then `imageSpec` when the image has one.
 * - Stapel image or artifact: SPEC §2.1 order, leaving out stages with nothing to do (no commands, no
 *   imports/dependencies, no git mappings, no docker directives, no imageSpec). `gitCache`,
 *   `gitLatestPatch` and `dockerInstructions` never appear for artifacts nor with `disableGitAfterPatch`.
 */
export function planConveyor(image: ResolvedImage, options: PlanConveyorOptions = {}): ImageConveyor {
  const build = options.build ?? {};
  const imageSpec = image.imageSpec ?? (image.final && !image.isArtifact ? build.imageSpec : undefined);
  const common = {
    image,
    imageKey: image.key,
    platform: platformOf(build) ?? options.hostPlatform,
    cacheVersion: image.cacheVersion ?? build.cacheVersion,
    imageSpec,
  };
  if (image.kind === 'dockerfile') {
    const stages: StagePlan[] = [{ name: 'dockerfile', gitRelated: false, conditional: false }];
    if (imageSpec) stages.push({ name: 'imageSpec', gitRelated: false, conditional: false });
    return { ...common, gitMappings: [], stages };
  }

  const gitMappings = image.git.map((config, index): ConveyorGitMapping => {
    const paramsHash = gitMappingParamsHash(config);
    return { index, config, paramsHash, commitLabel: gitCommitLabel(paramsHash) };
  });
  const hasGit = gitMappings.length > 0;
  const withAfterPatch = hasGit && !image.isArtifact && !image.disableGitAfterPatch;
  const hasDependencies = (stage: StageName): boolean =>
    importsOfStage(image, stage).length > 0 || dependenciesOfStage(image, stage).length > 0;

  const candidates: [StageName, boolean, boolean?][] = [
    ['from', true],
    ['beforeInstall', shellChecksum(image.shell, 'beforeInstall') !== ''],
    ['dependenciesBeforeInstall', hasDependencies('dependenciesBeforeInstall')],
    ['gitArchive', hasGit],
    ['install', shellChecksum(image.shell, 'install') !== ''],
    ['dependenciesAfterInstall', hasDependencies('dependenciesAfterInstall')],
    ['beforeSetup', shellChecksum(image.shell, 'beforeSetup') !== ''],
    ['dependenciesBeforeSetup', hasDependencies('dependenciesBeforeSetup')],
    ['setup', shellChecksum(image.shell, 'setup') !== ''],
    ['dependenciesAfterSetup', hasDependencies('dependenciesAfterSetup')],
    ['gitCache', withAfterPatch, true],
    ['gitLatestPatch', withAfterPatch, true],
    // werf generates dockerInstructions inside the same `!IsGitAfterPatchDisabled()` branch as the git
    // after-patch stages (pkg/build/image/stapel.go), so `disableGitAfterPatch` drops it too.
    [
      'dockerInstructions',
      !image.isArtifact && !image.disableGitAfterPatch && dockerInstructionsStageInputs(image.docker) !== undefined,
    ],
    ['imageSpec', imageSpec !== undefined],
  ];
  const stages = candidates
    .filter(([, present]) => present)
    .map(([name, , conditional]): StagePlan => ({
      name,
      gitRelated: isGitRelatedStage(name, hasGit),
      conditional: conditional === true,
    }));
  return { ...common, gitMappings, stages };
}

/** The planned stage named `name`, or `undefined` when the conveyor does not have it. */
export function findStagePlan(conveyor: ImageConveyor, name: StageName): StagePlan | undefined {
  return conveyor.stages.find((stage) => stage.name === name);
}

/**
 * Labels a git-related stage being built records: `werf-git-<paramsHash>-commit=<commit>` per mapping
 * (every mapping of the project's own repository is at the current commit). `{}` for other stages.
 */
export function gitCommitLabels(conveyor: ImageConveyor, request: { stage: StagePlan; commit: string }): Record<string, string> {
  if (!request.stage.gitRelated) return {};
  return Object.fromEntries(conveyor.gitMappings.map((mapping) => [mapping.commitLabel, request.commit]));
}

/**
 * The commits recorded on a stored stage, in mapping order, read from its labels (`undefined` for a
 * mapping whose label is missing). werf reads these from the stage image, whose labels are inherited
 * from its parent: for a non-git stage, pass the labels of the nearest git-related stage below it.
 */
export function recordedCommits(conveyor: ImageConveyor, labels: Readonly<Record<string, string>>): (string | undefined)[] {
  return conveyor.gitMappings.map((mapping) => labels[mapping.commitLabel]);
}

/**
 * Resolved werf.yaml configuration: what {@link parseConfig} returns when a config is valid.
 *
 * Contract for consumers (engine, CLI):
 * - Every default is filled in. Lists are empty arrays rather than `undefined`; booleans are always
 *   present. A field typed `?:` is optional in werf itself and has no default value (for example a
 *   `cacheVersion` that was not written is absent, which is different from an empty string for
 *   digests: SPEC §2.2 leaves absent optional values out).
 * - Strings are as written in werf.yaml. Scalars that YAML reads as numbers or booleans are kept in
 *   their source spelling where werf expects a string (`cacheVersion: 1.10` is `"1.10"`, `ENV: {A: no}`
 *   is `"no"`), because werf's Go YAML decoder does the same.
 * - Relative paths are normalised POSIX paths without a leading `./` (`.` for the directory
 *   itself) and never escape the project: `context` and `dockerfile` are relative to the project
 *   root, `contextAddFiles` to the context.
 *   Absolute in-image paths (`git.add`, `git.to`, `import.add`, `mount.to`, …) are kept as written
 *   (validated absolute).
 * - Image order is document order; a document with a list of names (`image: [a, b]`) yields one
 *   image per name, in list order, each a full copy of the same definition.
 *
 * Only additive changes are made to these types.
 */

/** The nameless image's key in reports and maps (SPEC §4.5). */
export const NAMELESS_IMAGE_KEY = '~';

/** Where a resolved item came from, for messages ("image backend, werf.yaml:12"). */
export interface SourcePosition {
  /** 0-based index of the YAML document in the file (empty documents count). */
  document: number;
  /** 1-based line in the original file. */
  line: number;
  /** 1-based column in the original file (UTF-16 code units). */
  column: number;
}

export interface ResolvedConfig {
  /** The config file path as given to the parser (for messages). */
  file: string;
  /** `project` from the meta document. */
  project: string;
  configVersion: 1;
  build: ResolvedBuildSettings;
  /** The `deploy` meta section, when written. It has no effect on building. */
  deploy?: ResolvedDeploySettings;
  cleanup: ResolvedCleanupSettings;
  gitWorktree: ResolvedGitWorktreeSettings;
  /** Every image and legacy artifact, in document order (multi-name documents expanded). */
  images: ResolvedImage[];
}

export interface ResolvedBuildSettings {
  /** `build.cacheVersion`: a user string that invalidates every image's cache. */
  cacheVersion?: string;
  /**
   * Target platforms. Only the host platform is supported, so this is `[]` (not written: the host
   * platform) or `[hostPlatform]`. Digests omit the platform for `linux/amd64` (SPEC §2.2).
   */
  platform: string[];
  /** Always `false`: `staged: true` is rejected as unsupported. */
  staged: false;
  /** Global image spec (`build.imageSpec`), applied to every final image. */
  imageSpec?: ResolvedImageSpec;
}

export interface ResolvedDeploySettings {
  /** @default ".helm" */
  helmChartDir: string;
  /** `helmChartConfig.appVersion`, when written. */
  helmChartAppVersion?: string;
  /** Release name template; werf's default (`[[ project ]]-[[ env ]]`) applies when absent. */
  helmRelease?: string;
  /** @default true */
  helmReleaseSlug: boolean;
  /** Namespace template; werf's default applies when absent. */
  namespace?: string;
  /** @default true */
  namespaceSlug: boolean;
}

export interface ResolvedCleanupSettings {
  /** @default false */
  disableKubernetesBasedPolicy: boolean;
  /** @default false */
  disableGitHistoryBasedPolicy: boolean;
  /** @default false */
  disableBuiltWithinLastNHoursPolicy: boolean;
  /** @default 2 */
  keepImagesBuiltWithinLastNHours: number;
  /**
   * `keepPolicies` as written. `undefined` means the section did not set any, so werf's default
   * policies apply (an explicit empty list means "no git-history policies").
   */
  keepPolicies?: CleanupKeepPolicy[];
}

export interface CleanupKeepPolicy {
  references: CleanupReferences;
  imagesPerReference?: CleanupLimit;
}

/** Exactly one of `branch`/`tag`, each a literal name or a `/REGEXP/`. */
export type CleanupReferences = ({ branch: string } | { tag: string }) & { limit?: CleanupLimit };

export interface CleanupLimit {
  /** Keep at most this many (≥ -1; -1 means no limit, as in werf). */
  last?: number;
  /** A Go duration (`168h`, `30m`): keep those newer than this. */
  in?: string;
  /** How `last` and `in` combine; werf defaults to `And` when both are set. */
  operator?: 'And' | 'Or';
}

export interface ResolvedGitWorktreeSettings {
  /** @default false */
  forceShallowClone: boolean;
  /** @default true */
  allowUnshallow: boolean;
  /** @default true */
  allowFetchOriginBranchesAndTags: boolean;
}

/** One image of the config, discriminated by `kind`. */
export type ResolvedImage = DockerfileImage | StapelImage;

export interface ImageCommon {
  /**
   * The image name, or `null` for the nameless image (`image: ~`, only allowed alone). Use
   * {@link ImageCommon.key} for map keys and reports.
   */
  name: string | null;
  /** `name`, or {@link NAMELESS_IMAGE_KEY} (`~`) for the nameless image. */
  key: string;
  /** True for a legacy `artifact:` document (never final, no `docker` directive). */
  isArtifact: boolean;
  /** Whether the image is a final (deployable) image. @default true (false for artifacts) */
  final: boolean;
  /** The image's `cacheVersion`. */
  cacheVersion?: string;
  /** `dependencies`, in config order. */
  dependencies: Dependency[];
  /** werf's `imageSpec`: adds the `imageSpec` stage. */
  imageSpec?: ResolvedImageSpec;
  /** Position of the `image:`/`artifact:` key. */
  source: SourcePosition;
}

export interface DockerfileImage extends ImageCommon {
  kind: 'dockerfile';
  /**
   * Dockerfile path relative to the project root, normalised. werf.yaml writes it relative to
   * `context` (default `Dockerfile`); it is resolved here (`context: app` + `dockerfile: Dockerfile`
   * → `app/Dockerfile`). It may lie outside the context but never outside the project.
   */
  dockerfile: string;
  /** Build context directory relative to the project root. @default "." */
  context: string;
  /**
   * Working-tree files (relative to `context`, inside it) added to the build context, untracked
   * ones included. Only non-empty when the caller allowed it (giterminism).
   */
  contextAddFiles: string[];
  /** Dockerfile stage to build; the last stage when absent. */
  target?: string;
  /** Build args, in config order. */
  args: Record<string, string>;
  /** `--add-host` entries (`host:ip`). */
  addHost: string[];
  /** Network mode for `RUN` (`default`, `none`, `host`). */
  network?: string;
}

export interface StapelImage extends ImageCommon {
  kind: 'stapel';
  from: StapelFrom;
  fromCacheVersion?: string;
  /** @default false — when true the image has no gitCache/gitLatestPatch stages. */
  disableGitAfterPatch: boolean;
  git: GitMapping[];
  shell: ShellInstructions;
  imports: Import[];
  docker: DockerInstructions;
  mounts: Mount[];
}

/**
 * The base of a stapel image.
 * - `external`: a registry reference as written (`alpine:3.18`); never resolved here.
 * - `image`: another image of this config (`fromImage`, legacy `fromArtifact`, or a `from` whose value
 *   is the name of a config image); `via` records which directive named it.
 * - `scratch`: `from: scratch`, an empty base.
 */
export type StapelFrom =
  | { kind: 'external'; ref: string }
  | { kind: 'image'; name: string; via: 'from' | 'fromImage' | 'fromArtifact' }
  | { kind: 'scratch' };

export interface GitMapping {
  /** Path inside the repository, absolute. @default "/" */
  add: string;
  /** Absolute destination path in the image. */
  to: string;
  /** Globs relative to `add`. */
  includePaths: string[];
  excludePaths: string[];
  owner?: string;
  group?: string;
  stageDependencies: GitStageDependencies;
}

export interface GitStageDependencies {
  install: string[];
  beforeSetup: string[];
  setup: string[];
}

export type ShellStageName = 'beforeInstall' | 'install' | 'beforeSetup' | 'setup';

export interface ShellInstructions {
  beforeInstall: string[];
  install: string[];
  beforeSetup: string[];
  setup: string[];
  cacheVersion?: string;
  beforeInstallCacheVersion?: string;
  installCacheVersion?: string;
  beforeSetupCacheVersion?: string;
  setupCacheVersion?: string;
}

/** Where an import or dependency runs: exactly one of `before`/`after`. */
export type StageAnchor = { before: 'install' | 'setup' } | { after: 'install' | 'setup' };

export interface Import {
  /** The config image (or legacy artifact) whose files are imported. */
  image: string;
  /** Which directive named it: `image:` or legacy `artifact:`. */
  via: 'image' | 'artifact';
  /** Absolute source path in that image. */
  add: string;
  /** Absolute destination path. @default the value of `add` */
  to: string;
  includePaths: string[];
  excludePaths: string[];
  owner?: string;
  group?: string;
  stage: StageAnchor;
}

export interface DockerInstructions {
  volume: string[];
  expose: string[];
  env: Record<string, string>;
  label: Record<string, string>;
  /** String (shell form) or list (exec form) as written. */
  cmd?: string | string[];
  entrypoint?: string | string[];
  workdir?: string;
  user?: string;
  healthcheck?: string;
}

/** A build-time mount: service dirs, or a host path (`fromPath`). */
export type Mount =
  | { type: 'tmp_dir' | 'build_dir'; to: string }
  | { type: 'custom_dir'; fromPath: string; to: string };

export type DependencyImportType = 'ImageName' | 'ImageTag' | 'ImageRepo' | 'ImageID' | 'ImageDigest';

export interface Dependency {
  /** The config image depended on (werf's `image:`, or the newer `from:`). */
  image: string;
  /** Stapel images only: where the dependency's env vars are set. Absent for Dockerfile images. */
  stage?: StageAnchor;
  imports: DependencyImport[];
}

/** Exactly one target: `targetEnv` for stapel images, `targetBuildArg` for Dockerfile images. */
export interface DependencyImport {
  type: DependencyImportType;
  targetEnv?: string;
  targetBuildArg?: string;
}

/** werf's `imageSpec` (image-level, or the global `build.imageSpec` with its smaller key set). */
export interface ResolvedImageSpec {
  author?: string;
  /** @default false */
  clearHistory: boolean;
  config: ResolvedImageSpecConfig;
}

export interface ResolvedImageSpecConfig {
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Label names or `/REGEXP/`s. */
  removeLabels: string[];
  removeEnv: string[];
  removeVolumes: string[];
  expose: string[];
  volumes: string[];
  cmd?: string[];
  entrypoint?: string[];
  user?: string;
  workingDir?: string;
  stopSignal?: string;
  healthcheck?: ImageSpecHealthcheck;
  /** @default false */
  clearCmd: boolean;
  /** @default false */
  clearEntrypoint: boolean;
  /** @default false */
  clearWerfLabels: boolean;
  /** Older spelling of `clearWerfLabels`. @default false */
  removeWerfLabels: boolean;
  /** @default false */
  keepEssentialWerfLabels: boolean;
}

export interface ImageSpecHealthcheck {
  test: string[];
  /** Seconds. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  retries?: number;
}

/** `image.name ?? '~'`: the key of an image in maps and build reports. */
export function imageKey(image: Pick<ImageCommon, 'name'>): string {
  return image.name ?? NAMELESS_IMAGE_KEY;
}

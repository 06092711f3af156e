/**
 * The `Executor` port: builds one stage image on top of a base image (SPEC §4.3). It never reads or
 * writes stage storage; the engine publishes what it returns.
 */
import type { DockerInstructions, Mount, ResolvedImageSpec } from '@strata/config';
import type { CallOptions } from '../clock.js';
import type { StageDigest, StageName } from '../ids.js';

/** One git mapping as the executor applies it (paths as in werf.yaml, see `@strata/config` GitMapping). */
export interface GitMappingStep {
  /** The mapping's parameters hash: the key of its commit label. */
  paramsHash: string;
  /** Path inside the repository, absolute (`/` is the root). */
  add: string;
  /** Absolute destination in the image. */
  to: string;
  includePaths: readonly string[];
  excludePaths: readonly string[];
  owner?: string | undefined;
  group?: string | undefined;
}

/** A mapping's files at one commit (`gitArchive`). */
export interface GitArchiveStep extends GitMappingStep {
  commit: string;
}

/** A mapping's changes between two commits: added, modified, deleted files, modes, symlinks. */
export interface GitPatchStep extends GitMappingStep {
  fromCommit: string;
  toCommit: string;
}

/** Files copied from another image's final stage (`import`). */
export interface ImportStep {
  /** The source stage's image, as the executor understands it. */
  sourceImageRef: string;
  /** Config name of the source image (for messages). */
  sourceImage: string;
  /** Absolute source path in that image. */
  add: string;
  /** Absolute destination path. */
  to: string;
  includePaths: readonly string[];
  excludePaths: readonly string[];
  owner?: string | undefined;
  group?: string | undefined;
}

/** Fields shared by every request. */
export interface StageBuildCommon {
  /** The config image key (`~` for the nameless image), for messages and build container names. */
  image: string;
  stage: StageName;
  digest: StageDigest;
  /**
   * Labels to put on the built image: the stage labels (`stageLabels`), which the store later reads
   * back. The executor may add its own, never change these.
   */
  labels: Readonly<Record<string, string>>;
}

/** Fields of every stage built in a container on the previous stage. */
export interface OnBaseImage {
  /** The previous stage's image (its store `imageRef`). */
  baseImageRef: string;
}

/**
 * `from`: the base image, labelled. `base` is an external reference as written in werf.yaml (the
 * executor pulls it), another config image's final stage (`fromImage`), or `scratch`.
 */
export interface FromStageRequest extends StageBuildCommon {
  kind: 'from';
  base: { kind: 'external'; ref: string } | { kind: 'stage'; imageRef: string; image: string } | { kind: 'scratch' };
  mounts: readonly Mount[];
}

/**
 * A user shell stage (`beforeInstall`, `install`, `beforeSetup`, `setup`): run `commands` in a build
 * container (user 0:0, workdir `/`, network `none`) after applying `gitPatches` (changes since the
 * base stage's commits, for images with git mappings; empty otherwise), then commit it.
 */
export interface ShellStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'shell';
  commands: readonly string[];
  gitPatches: readonly GitPatchStep[];
  mounts: readonly Mount[];
}

/** `gitArchive`: add every mapping's files at `commit`. */
export interface GitArchiveStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'gitArchive';
  mappings: readonly GitArchiveStep[];
}

/** `gitCache`, `gitLatestPatch`: apply each mapping's changes between two commits. */
export interface GitPatchStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'gitPatch';
  patches: readonly GitPatchStep[];
}

/** `dependencies*`: copy imported files and set dependency environment variables. */
export interface DependenciesStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'dependencies';
  imports: readonly ImportStep[];
  /** `dependencies[].imports[].targetEnv` values (image name, tag, repo, id, digest of the dependency). */
  env: Readonly<Record<string, string>>;
}

/** `dockerInstructions`: change the image config only (SPEC §4.3 CMD/ENTRYPOINT rules apply). */
export interface DockerInstructionsStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'dockerInstructions';
  instructions: DockerInstructions;
}

/** `imageSpec`: change the final image's config. */
export interface ImageSpecStageRequest extends StageBuildCommon, OnBaseImage {
  kind: 'imageSpec';
  spec: ResolvedImageSpec;
}

/**
 * `dockerfile`: `docker build` of `target` with the context taken from `commit` (the `context` dir,
 * `.dockerignore` applied) plus `contextAddFiles` from the working tree. The executor reads the files
 * from its own git repository.
 */
export interface DockerfileStageRequest extends StageBuildCommon {
  kind: 'dockerfile';
  commit: string;
  /** Dockerfile path relative to the project root. */
  dockerfile: string;
  /** Context directory relative to the project root (`.` for the root). */
  context: string;
  contextAddFiles: readonly string[];
  target?: string | undefined;
  /** Build args: the config's `args` plus dependency `targetBuildArg` values. */
  buildArgs: Readonly<Record<string, string>>;
  addHost: readonly string[];
  network?: string | undefined;
}

/** What to build, discriminated by `kind`. */
export type StageBuildRequest =
  | FromStageRequest
  | ShellStageRequest
  | GitArchiveStageRequest
  | GitPatchStageRequest
  | DependenciesStageRequest
  | DockerInstructionsStageRequest
  | ImageSpecStageRequest
  | DockerfileStageRequest;

/** A built stage image, not yet in any store. */
export interface BuiltStage {
  /** A reference the stores' image transfer can ingest (e.g. a local image id or tag). */
  imageRef: string;
  /** The image's config digest, `sha256:…`. */
  imageId: string;
  /** Size in bytes. */
  size: number;
}

/** What {@link Executor.importChecksum} checksums: files of a stage image, as an import selects them. */
export interface ImportChecksumRequest {
  sourceImageRef: string;
  /** Absolute path in the image. */
  add: string;
  includePaths: readonly string[];
  excludePaths: readonly string[];
  /**
   * werf's checksum command for this selection (`importSourceChecksumCommand`): run it with a POSIX
   * shell in a container of `sourceImageRef` and return the first field it prints.
   */
  command: string;
}

/**
 * Builds stage images.
 *
 * Contract:
 * - {@link buildStage} builds exactly one stage on the given base; it is not idempotent (each call may
 *   produce a new image) and never consults or changes stage storage.
 * - Calls may run concurrently; the executor limits its own resource use if it must.
 * - On abort it stops the build, removes its build container, and rejects with the signal's reason.
 * - Failures of the user's commands reject with an error carrying the stage, image and command output.
 */
export interface Executor {
  buildStage(request: StageBuildRequest, options?: CallOptions): Promise<BuiltStage>;

  /**
   * The checksum of the files an import takes from a stage image (werf: `find <add> -type f` filtered,
   * sorted, each file's md5, then the md5 of that list), so an upstream rebuild with identical output
   * does not change the importing stage's digest. Deterministic for equal file content; read-only.
   */
  importChecksum(request: ImportChecksumRequest, options?: CallOptions): Promise<string>;
}

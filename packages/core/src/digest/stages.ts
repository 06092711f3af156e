/**
 * Per-stage dependency inputs (SPEC §2.2, Appendix A): pure functions from config plus gathered facts
 * to the labelled inputs whose `H(...)` is the stage's dependencies string.
 *
 * werf sources each rule was checked against are named next to it (`pkg/build/stage/*.go`).
 */
import type {
  DockerInstructions,
  GitMapping,
  Import,
  Dependency,
  Mount,
  ResolvedImageSpec,
  ShellInstructions,
  ShellStageName,
  StapelFrom,
} from '@strata/config';
import { hashArgs } from './hash.js';
import { digestInput, hashInputs, nestedInput, optionalInput, type DigestInput } from './inputs.js';
import { gitMappingParamsInput } from './git-mapping.js';
import { cleanPath } from './paths.js';

/* ------------------------------------------------------------------------------------------------ from */

/** What the `from` stage builds on, resolved: a base image reference, scratch, or a config image. */
export type FromBase =
  | { kind: 'external'; ref: string }
  | { kind: 'scratch' }
  /** Another image of the config: its content digest (its last stage's `werf-stage-content-digest`). */
  | { kind: 'image'; name: string; contentDigest: string };

export interface FromStageParams {
  /** The image's effective `cacheVersion` (image-level, else `build.cacheVersion`). */
  imageCacheVersion?: string | undefined;
  fromCacheVersion?: string | undefined;
  mounts: readonly Mount[];
  base: FromBase;
}

/**
 * `from` (werf `from.go`): image cacheVersion?, fromCacheVersion?, per mount `clean(fromPath)`,
 * `clean(to)`, type (service mounts have no `fromPath`, which Go cleans to `.`), then exactly one of
 * `scratch`, the content digest of the `fromImage`, or the base reference as written.
 * werf's `baseImageRepoId` (only with `fromLatest`) is not supported by the config and never present.
 */
export function fromStageInputs(params: FromStageParams): DigestInput[] {
  const inputs: DigestInput[] = [
    ...optionalInput('image cacheVersion', params.imageCacheVersion),
    ...optionalInput('fromCacheVersion', params.fromCacheVersion),
  ];
  params.mounts.forEach((mount, index) => {
    const fromPath = mount.type === 'custom_dir' ? mount.fromPath : '';
    inputs.push(digestInput(`mount[${index}] fromPath`, cleanPath(fromPath)));
    inputs.push(digestInput(`mount[${index}] to`, cleanPath(mount.to)));
    inputs.push(digestInput(`mount[${index}] type`, mount.type));
  });
  const base = params.base;
  if (base.kind === 'scratch') inputs.push(digestInput('base image', 'scratch'));
  else if (base.kind === 'image') inputs.push(digestInput(`base image content digest (image ${base.name})`, base.contentDigest));
  else inputs.push(digestInput('base image', base.ref));
  return inputs;
}

/** Maps a config `from` to a {@link FromBase}, given the content digest of a config base image. */
export function resolveFromBase(from: StapelFrom, contentDigest: string | undefined): FromBase | undefined {
  if (from.kind === 'external') return { kind: 'external', ref: from.ref };
  if (from.kind === 'scratch') return { kind: 'scratch' };
  return contentDigest === undefined ? undefined : { kind: 'image', name: from.name, contentDigest };
}

/* ----------------------------------------------------------------------------------------------- shell */

const CACHE_VERSION_KEYS = {
  beforeInstall: 'beforeInstallCacheVersion',
  install: 'installCacheVersion',
  beforeSetup: 'beforeSetupCacheVersion',
  setup: 'setupCacheVersion',
} as const satisfies Record<ShellStageName, keyof ShellInstructions>;

/**
 * The labelled parts of a user stage's shell checksum (werf `builder/shell.go` `stageChecksum`):
 * the commands, then `versionChecksum = H(<stage>CacheVersion?, shell.cacheVersion?)` when either is set.
 */
export function shellChecksumInputs(shell: ShellInstructions, stage: ShellStageName): DigestInput[] {
  const inputs = shell[stage].map((command, index) => digestInput(`command[${index}]`, command));
  const key = CACHE_VERSION_KEYS[stage];
  const versions = [...optionalInput(`shell.${key}`, shell[key]), ...optionalInput('shell.cacheVersion', shell.cacheVersion)];
  if (versions.length > 0) inputs.push(nestedInput('version checksum', versions));
  return inputs;
}

/** `H(parts)`, or `""` when there are no parts: an empty shell checksum makes the stage empty. */
export function shellChecksumOf(parts: readonly DigestInput[]): string {
  return parts.length === 0 ? '' : hashInputs(parts);
}

/** The shell checksum of a user stage; `""` when the stage has no commands and no versions. */
export function shellChecksum(shell: ShellInstructions, stage: ShellStageName): string {
  return shellChecksumOf(shellChecksumInputs(shell, stage));
}

/** `beforeInstall` (werf `before_install.go`): the shell checksum itself, not re-wrapped. */
export function beforeInstallStageInputs(shell: ShellInstructions): DigestInput[] {
  return shellChecksumInputs(shell, 'beforeInstall');
}

/** One mapping's `stageDependencies` checksum for one stage, as gathered from git. */
export interface MappingStageDependencies {
  /** The mapping's `to` (labels only). */
  to: string;
  /** Running SHA-256 over the non-empty per-glob checksums; `""` when the mapping lists no globs. */
  checksum: string;
  /** Per glob, in config order; `""` for a glob that matched nothing (werf warns and skips it). */
  globs: readonly { glob: string; checksum: string }[];
}

/**
 * `install`/`beforeSetup`/`setup` (werf `install.go`, `user.go` `getStageDependenciesChecksum`):
 * `H(shellChecksum, H(c₁, …, cₖ))`, one `cᵢ` per git mapping of the image (`H()` with none).
 */
export function userStageInputs(
  shell: ShellInstructions,
  request: {
    stage: Exclude<ShellStageName, 'beforeInstall'>;
    /** One per git mapping of the image, in mapping order; `[]` without mappings. */
    mappings: readonly MappingStageDependencies[];
  },
): DigestInput[] {
  const { stage, mappings } = request;
  const perMapping = mappings.map((mapping, index) => ({
    label: `stageDependencies ${stage} (mapping[${index}] ${mapping.to})`,
    value: mapping.checksum,
    parts: mapping.globs.map((entry) => digestInput(`glob ${entry.glob}`, entry.checksum)),
  }));
  return [
    nestedInput('shell checksum', shellChecksumInputs(shell, stage), { combine: shellChecksumOf }),
    nestedInput('stageDependencies', perMapping),
  ];
}

/* ------------------------------------------------------------------------------------------------- git */

/**
 * `gitArchive` (werf `git_archive.go`): `H(sorted parameter hashes)`. The commit is not an input: new
 * commits reach the image as patches in later stages.
 */
export function gitArchiveStageInputs(mappings: readonly GitMapping[]): DigestInput[] {
  const params = mappings.map((mapping) => gitMappingParamsInput(mapping));
  return [...params].sort((a, b) => compareBytes(a.value as string, b.value as string));
}

/** The `gitCache` step: werf's `patchSizeStep`. */
export const GIT_CACHE_STEP_BYTES = 1024 * 1024;

/**
 * `gitCache` (werf `git_cache.go`): `H(str(floor(size / 1 MiB)))` where `size` is the summed size of the
 * full-context binary patches since the previous built stage's commit. `undefined` (stage empty) below
 * 1 MiB.
 */
export function gitCacheStageInputs(patchSizes: readonly number[]): DigestInput[] | undefined {
  const total = patchSizes.reduce((sum, size) => sum + size, 0);
  if (total < GIT_CACHE_STEP_BYTES) return undefined;
  return [
    {
      label: 'patch size in MiB',
      value: String(Math.floor(total / GIT_CACHE_STEP_BYTES)),
      parts: patchSizes.map((size, index) => digestInput(`mapping[${index}] patch bytes`, String(size))),
    },
  ];
}

/** One mapping's patch from the previous built stage's commit to the current commit. */
export interface MappingPatch {
  to: string;
  /** Patch bytes; empty when both commits are equal or nothing under the mapping changed. */
  bytes: Uint8Array;
}

/**
 * `gitLatestPatch` (werf `git_latest_patch.go` `GetDependencies`, `git_mapping.go` `GetPatchContent`):
 * `H(patch₁, …, patchₙ)` over the patch TEXT of each mapping — werf reads the whole patch file and hashes
 * its content, not a checksum of it; `""` when the commits are equal. `undefined` (stage empty) when every
 * patch is empty.
 *
 * werf builds this patch with `git diff --full-index` WITHOUT `--binary` (`WithBinary: false`), so a
 * changed binary file contributes `Binary files … differ`; `gatherStageFacts` converts the port's
 * `--binary` patches to that form (`withoutBinaryData`).
 */
export function gitLatestPatchStageInputs(patches: readonly MappingPatch[]): DigestInput[] | undefined {
  if (patches.every((patch) => patch.bytes.length === 0)) return undefined;
  return patches.map((patch, index) => digestInput(`patch (mapping[${index}] ${patch.to})`, patch.bytes));
}

/* -------------------------------------------------------------------------------------- dependencies */

/** Facts about one import, gathered by the engine from the source image. */
export interface ImportFacts {
  /**
   * Checksum of the imported files' content in the source image (werf runs
   * `find <add> -type f … | sort -n | xargs md5sum | md5sum | cut -d' ' -f1` in a container), so an
   * upstream rebuild with identical output does not cascade.
   */
  sourceChecksum: string;
}

/** Facts about one dependency, gathered by the engine. */
export interface DependencyFacts {
  /** The dependency image's stage image name (`repo:DIGEST-TS`), werf's `GetImageNameForLastImageStage`. */
  imageName: string;
}

/**
 * `dependencies*` (werf `dependencies.go`): per import `sourceChecksum, to, group, owner`; per
 * dependency `"Dependency", imageName` then per import `"DependencyImport", H("Type", type,
 * "TargetEnv", targetEnv)`.
 */
export function dependenciesStageInputs(
  imports: readonly { config: Import; facts: ImportFacts }[],
  dependencies: readonly { config: Dependency; facts: DependencyFacts }[],
): DigestInput[] {
  const inputs: DigestInput[] = [];
  imports.forEach(({ config, facts }, index) => {
    const where = `import[${index}] ${config.image}:${config.add}`;
    inputs.push(digestInput(`${where} source checksum`, facts.sourceChecksum));
    inputs.push(digestInput(`${where} to`, config.to));
    inputs.push(digestInput(`${where} group`, config.group ?? ''));
    inputs.push(digestInput(`${where} owner`, config.owner ?? ''));
  });
  dependencies.forEach(({ config, facts }, index) => {
    inputs.push(digestInput(`dependency[${index}] marker`, 'Dependency'));
    inputs.push(digestInput(`dependency[${index}] image ${config.image}`, facts.imageName));
    config.imports.forEach((entry, importIndex) => {
      inputs.push(digestInput(`dependency[${index}] import[${importIndex}] marker`, 'DependencyImport'));
      inputs.push(
        nestedInput(`dependency[${index}] import[${importIndex}] id`, [
          digestInput('Type', 'Type'),
          digestInput('type', entry.type),
          digestInput('TargetEnv', 'TargetEnv'),
          digestInput('targetEnv', entry.targetEnv ?? ''),
        ]),
      );
    });
  });
  return inputs;
}

/* ------------------------------------------------------------------------------- docker instructions */

/**
 * werf's config form of `CMD`/`ENTRYPOINT` (`config/raw_docker.go` `prepareCommand`): a string as
 * written; a list as `["a", "b"]` (elements joined with `", "`), `[]` when empty.
 */
export function dockerCommandString(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return value.length === 0 ? '[]' : `["${value.join('", "')}"]`;
}

/**
 * `dockerInstructions` (werf `docker_instructions.go`): VOLUME…, EXPOSE…, ENV and LABEL as key/value
 * pairs sorted by key, CMD, ENTRYPOINT, WORKDIR, USER, HEALTHCHECK. werf sets CMD to `[]` when only
 * ENTRYPOINT is given (`toDirective`). `undefined` when the directive sets nothing (stage empty).
 */
export function dockerInstructionsStageInputs(docker: DockerInstructions): DigestInput[] | undefined {
  const entrypoint = dockerCommandString(docker.entrypoint);
  let cmd = dockerCommandString(docker.cmd);
  if (entrypoint !== '' && cmd === '') cmd = '[]';
  const isEmpty =
    docker.volume.length === 0 &&
    docker.expose.length === 0 &&
    Object.keys(docker.env).length === 0 &&
    Object.keys(docker.label).length === 0 &&
    cmd === '' &&
    entrypoint === '' &&
    (docker.workdir ?? '') === '' &&
    (docker.user ?? '') === '' &&
    (docker.healthcheck ?? '') === '';
  if (isEmpty) return undefined;
  return [
    ...docker.volume.map((volume, index) => digestInput(`VOLUME[${index}]`, volume)),
    ...docker.expose.map((port, index) => digestInput(`EXPOSE[${index}]`, port)),
    ...sortedPairs('ENV', docker.env),
    ...sortedPairs('LABEL', docker.label),
    digestInput('CMD', cmd),
    digestInput('ENTRYPOINT', entrypoint),
    digestInput('WORKDIR', docker.workdir ?? ''),
    digestInput('USER', docker.user ?? ''),
    digestInput('HEALTHCHECK', docker.healthcheck ?? ''),
  ];
}

/* ------------------------------------------------------------------------------------------ imageSpec */

/** The cache version werf's `image_spec.go` puts first. */
export const IMAGE_SPEC_STAGE_VERSION = '1';

/**
 * `imageSpec` (werf `image_spec.go` `GetDependencies`, the revision with cache version `"1"`):
 * version, author, clearHistory, clearWerfLabels, sorted removeLabels/removeVolumes/removeEnv, sorted
 * volumes, labels and env as sorted pairs, sorted expose, user, cmd and entrypoint joined with a space,
 * workingDir, stopSignal, healthcheck.
 *
 * Decision: werf hashes `fmt.Sprint(*Healthcheck)`; a Go struct pointer prints as `&{…}`. Strata hashes
 * `<nil>` when absent (what Go prints for a nil pointer) and `&{[test…] interval timeout startPeriod
 * retries}` otherwise, with absent numbers as `0` — the Go zero value. Not verified against werf bytes.
 */
export function imageSpecStageInputs(spec: ResolvedImageSpec): DigestInput[] {
  const config = spec.config;
  const sorted = (values: readonly string[]): string[] => [...values].sort(compareBytes);
  const list = (label: string, values: readonly string[]): DigestInput[] =>
    sorted(values).map((value, index) => digestInput(`${label}[${index}]`, value));
  const health = config.healthcheck;
  const healthText =
    health === undefined
      ? '<nil>'
      : `&{[${health.test.join(' ')}] ${health.interval ?? 0} ${health.timeout ?? 0} ${health.startPeriod ?? 0} ${health.retries ?? 0}}`;
  return [
    digestInput('imageSpec version', IMAGE_SPEC_STAGE_VERSION),
    digestInput('author', spec.author ?? ''),
    digestInput('clearHistory', String(spec.clearHistory)),
    digestInput('clearWerfLabels', String(config.clearWerfLabels || config.removeWerfLabels)),
    ...list('removeLabels', config.removeLabels),
    ...list('removeVolumes', config.removeVolumes),
    ...list('removeEnv', config.removeEnv),
    ...list('volumes', config.volumes),
    ...sortedPairs('labels', config.labels),
    ...sortedPairs('env', config.env),
    ...list('expose', config.expose),
    digestInput('user', config.user ?? ''),
    digestInput('cmd', (config.cmd ?? []).join(' ')),
    digestInput('entrypoint', (config.entrypoint ?? []).join(' ')),
    digestInput('workingDir', config.workingDir ?? ''),
    digestInput('stopSignal', config.stopSignal ?? ''),
    digestInput('healthcheck', healthText),
  ];
}

/* ---------------------------------------------------------------------------------------------- utils */

/** Go's `sort.Strings` order (bytewise on UTF-8), which differs from UTF-16 order outside the BMP. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedPairs(label: string, record: Readonly<Record<string, string>>): DigestInput[] {
  return Object.keys(record)
    .sort(compareBytes)
    .flatMap((key) => [digestInput(`${label} ${key} (key)`, key), digestInput(`${label} ${key}`, record[key] ?? '')]);
}

/** `H(...)` of a stage's inputs: its dependencies string. */
export function stageDependenciesOf(inputs: readonly DigestInput[]): string {
  return hashArgs(...inputs.map((entry) => entry.value));
}

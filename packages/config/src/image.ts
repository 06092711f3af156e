/**
 * Validation of one image (or legacy artifact) document into resolved images, plus the references
 * it makes to other images (checked across the whole config by `references.ts`).
 */
import { posix } from 'node:path';
import { isScalar, isSeq, type Node } from 'yaml';
import { readImageSpec } from './image-spec.js';
import { readPlatform, readStaged, reportSecrets } from './meta.js';
import type {
  Dependency,
  DependencyImport,
  DependencyImportType,
  DockerInstructions,
  GitMapping,
  Import,
  Mount,
  ResolvedImage,
  ResolvedImageSpec,
  ShellInstructions,
  SourcePosition,
  StageAnchor,
  StapelFrom,
} from './types.js';
import { NAMELESS_IMAGE_KEY } from './types.js';
import {
  describeNode,
  isNullNode,
  readBoolean,
  readEnum,
  readMap,
  readString,
  readStringList,
  readStringMap,
  scalarText,
  type DocContext,
  type Entries,
  type Entry,
  type Segment,
} from './walk.js';

const COMMON_KEYS = ['image', 'artifact', 'cacheVersion', 'final', 'dependencies', 'imageSpec', 'platform', 'secrets'] as const;
const STAPEL_KEYS = [
  'from',
  'fromImage',
  'fromArtifact',
  'fromLatest',
  'fromCacheVersion',
  'disableGitAfterPatch',
  'git',
  'shell',
  'ansible',
  'import',
  'docker',
  'mount',
] as const;
const DOCKERFILE_KEYS = ['dockerfile', 'context', 'contextAddFiles', 'contextAddFile', 'target', 'args', 'addHost', 'network', 'ssh', 'staged'] as const;
export const IMAGE_KEYS: readonly string[] = [...COMMON_KEYS, ...STAPEL_KEYS, ...DOCKERFILE_KEYS];

const GIT_KEYS = ['add', 'to', 'includePaths', 'excludePaths', 'owner', 'group', 'stageDependencies', 'url', 'branch', 'tag', 'commit'] as const;
const SHELL_STAGES = ['beforeInstall', 'install', 'beforeSetup', 'setup'] as const;
const SHELL_KEYS = [...SHELL_STAGES, 'cacheVersion', ...SHELL_STAGES.map((s) => `${s}CacheVersion`)] as const;
const IMPORT_KEYS = ['image', 'artifact', 'stage', 'add', 'to', 'before', 'after', 'owner', 'group', 'includePaths', 'excludePaths'] as const;
const DOCKER_KEYS = ['VOLUME', 'EXPOSE', 'ENV', 'LABEL', 'CMD', 'WORKDIR', 'USER', 'ENTRYPOINT', 'HEALTHCHECK'] as const;
const MOUNT_KEYS = ['from', 'fromPath', 'to'] as const;
const DEPENDENCY_KEYS = ['image', 'from', 'before', 'after', 'imports'] as const;
const DEPENDENCY_IMPORT_KEYS = ['type', 'targetEnv', 'targetBuildArg'] as const;
const DEPENDENCY_IMPORT_TYPES: readonly DependencyImportType[] = ['ImageName', 'ImageTag', 'ImageRepo', 'ImageID', 'ImageDigest'];
const STAGES = ['install', 'setup'] as const;

/** A reference from one image document to another image of the config. */
export interface ImageReference {
  target: string;
  directive: 'from' | 'fromImage' | 'fromArtifact' | 'import' | 'dependencies';
  node: Node | undefined;
  segments: Segment[];
  dc: DocContext;
}

/** The outcome for one image document: its images (one per name) and the references they make. */
export interface ImageDocResult {
  images: ResolvedImage[];
  /** References made by the definition, keyed per image name (a `from` naming the image itself is not one). */
  references: Map<string, ImageReference[]>;
}

export interface ImageDocInput {
  dc: DocContext;
  root: Node;
  names: (string | null)[];
  isArtifact: boolean;
  /** The `image:`/`artifact:` key position. */
  source: SourcePosition;
  /** Names of every image in the config (to tell `from: <image>` from `from: <registry ref>`). */
  allNames: ReadonlySet<string>;
  allowContextAddFiles: boolean;
  hostPlatform: string;
}

export function readImageDocument(input: ImageDocInput): ImageDocResult | undefined {
  const { dc, root } = input;
  const entries = readMap(dc, root, [], {
    keys: IMAGE_KEYS,
    unknownHint: (key) =>
      ['project', 'configVersion', 'build', 'deploy', 'cleanup', 'gitWorktree'].includes(key)
        ? `"${key}" belongs in the meta document (the one with configVersion)`
        : undefined,
  });
  if (!entries) return undefined;

  const present = (keys: readonly string[]): Entry[] => keys.flatMap((k) => entries.get(k) ?? []);
  const stapelEntries = present(STAPEL_KEYS);
  const dockerfileEntries = present(DOCKERFILE_KEYS);
  const isDockerfile = entries.has('dockerfile') || (stapelEntries.length === 0 && dockerfileEntries.length > 0);

  if (isDockerfile) {
    for (const entry of stapelEntries) {
      dc.report('CONFLICTING_KEYS', `"${entry.key}" is a stapel directive and cannot be used in a Dockerfile image`, entry.keyNode, entry.segments, {
        hint: 'Use either `dockerfile` (with context, args, …) or stapel directives (from, git, shell, …) in one image, not both.',
      });
    }
    if (input.isArtifact) {
      const at = entries.get('dockerfile') ?? dockerfileEntries[0];
      dc.report('ARTIFACT_FORBIDDEN_DIRECTIVE', 'a legacy artifact must be a stapel image and cannot use Dockerfile directives', at?.keyNode, at?.segments ?? [], {
        hint: 'Turn the artifact into `image: NAME` with `final: false`.',
      });
    }
  } else {
    for (const entry of dockerfileEntries) {
      dc.report('CONFLICTING_KEYS', `"${entry.key}" is a Dockerfile image directive and cannot be used in a stapel image (one with from/fromImage)`, entry.keyNode, entry.segments, {
        hint: 'Use either `dockerfile` (with context, args, …) or stapel directives (from, git, shell, …) in one image, not both.',
      });
    }
  }

  const refs: ImageReference[] = [];
  const common = readCommon(input, entries, refs, isDockerfile);
  const base = isDockerfile ? readDockerfile(input, entries) : readStapel(input, entries, refs);
  if (!base) return undefined;

  if (base.kind === 'dockerfile') {
    const argsEntry = entries.get('args');
    for (const dependency of common.dependencies) {
      for (const imp of dependency.imports) {
        if (imp.targetBuildArg !== undefined && Object.hasOwn(base.args, imp.targetBuildArg)) {
          dc.report('CONFLICTING_KEYS', `build arg "${imp.targetBuildArg}" is set both in "args" and by a dependency's targetBuildArg`, argsEntry?.keyNode, ['args', imp.targetBuildArg], {
            hint: 'Remove it from `args`; the dependency provides its value.',
          });
        }
      }
    }
  }

  const { fromCandidate, ...definition } = base.kind === 'stapel' ? base : { ...base, fromCandidate: undefined };
  const images: ResolvedImage[] = [];
  const references = new Map<string, ImageReference[]>();
  for (const name of input.names) {
    const key = name ?? NAMELESS_IMAGE_KEY;
    const image = structuredClone<ResolvedImage>({ name, key, ...definition, ...common, source: input.source });
    let own = refs;
    if (image.kind === 'stapel' && fromCandidate !== undefined) {
      image.from = resolveFrom(fromCandidate.value, name, input.allNames);
      if (image.from.kind === 'image') {
        own = [...refs, { target: image.from.name, directive: 'from', node: fromCandidate.node, segments: ['from'], dc }];
      }
    }
    images.push(image);
    references.set(key, own);
  }
  return { images, references };
}

/** `from: X` names a config image when X is one (except the image's own name, which werf reads as `X:latest`). */
function resolveFrom(value: string, ownName: string | null, allNames: ReadonlySet<string>): StapelFrom {
  if (value === 'scratch') return { kind: 'scratch' };
  if (value !== ownName && allNames.has(value)) return { kind: 'image', name: value, via: 'from' };
  return { kind: 'external', ref: value === ownName ? `${value}:latest` : value };
}

interface Common {
  isArtifact: boolean;
  final: boolean;
  cacheVersion?: string;
  dependencies: Dependency[];
  imageSpec?: ResolvedImageSpec;
}

function readCommon(input: ImageDocInput, entries: Entries, refs: ImageReference[], isDockerfile: boolean): Common {
  const { dc } = input;
  const finalEntry = entries.get('final');
  let final = readBoolean(dc, finalEntry) ?? !input.isArtifact;
  if (input.isArtifact && finalEntry) {
    dc.report('ARTIFACT_FORBIDDEN_DIRECTIVE', 'a legacy artifact is never final and cannot use "final"', finalEntry.keyNode, finalEntry.segments, {
      hint: 'Remove `final`, or turn the artifact into `image: NAME` with `final: false`.',
    });
    final = false;
  }
  const common: Common = { isArtifact: input.isArtifact, final, dependencies: [] };
  const cacheVersion = readString(dc, entries.get('cacheVersion'));
  if (cacheVersion !== undefined) common.cacheVersion = cacheVersion;
  readPlatform(dc, entries.get('platform'), input.hostPlatform);
  reportSecrets(dc, entries.get('secrets'));
  const spec = entries.get('imageSpec');
  if (spec && !isNullNode(spec.value)) {
    const value = readImageSpec(dc, spec, false);
    if (value) common.imageSpec = value;
  }
  common.dependencies = readDependencies(dc, entries.get('dependencies'), refs, isDockerfile);
  return common;
}

// ---------------------------------------------------------------- Dockerfile images

interface DockerfileBase {
  kind: 'dockerfile';
  dockerfile: string;
  context: string;
  contextAddFiles: string[];
  target?: string;
  args: Record<string, string>;
  addHost: string[];
  network?: string;
}

function readDockerfile(input: ImageDocInput, entries: Entries): DockerfileBase | undefined {
  const { dc } = input;
  const contextEntry = entries.get('context');
  const context = relativePath(dc, contextEntry, readString(dc, contextEntry) ?? '.', 'the project', '');
  const dockerfileEntry = entries.get('dockerfile');
  const dockerfileRaw = readString(dc, dockerfileEntry);
  if (dockerfileEntry && dockerfileRaw === '') {
    dc.report('INVALID_VALUE', '"dockerfile" must not be empty', dockerfileEntry.value, dockerfileEntry.segments, { hint: 'Omit it to use `Dockerfile`.' });
  }
  const dockerfile = relativePath(dc, dockerfileEntry, dockerfileRaw || 'Dockerfile', 'the project', context ?? '');
  const base: DockerfileBase = {
    kind: 'dockerfile',
    // werf writes it relative to the context; consumers read it from the project (git) root.
    dockerfile: posix.normalize(posix.join(context ?? '.', dockerfile ?? 'Dockerfile')),
    context: context ?? '.',
    contextAddFiles: [],
    args: {},
    addHost: [],
  };

  for (const key of ['contextAddFiles', 'contextAddFile'] as const) {
    const entry = entries.get(key);
    if (!entry) continue;
    if (key === 'contextAddFile') {
      dc.report('DEPRECATED_DIRECTIVE', '"contextAddFile" is the old spelling of "contextAddFiles"', entry.keyNode, entry.segments, {
        severity: 'warning',
        hint: 'Rename it to `contextAddFiles`.',
      });
    }
    const { values, nodes } = readStringList(dc, entry);
    if (values.length > 0 && !input.allowContextAddFiles) {
      dc.report('CONTEXT_ADD_FILES_FORBIDDEN', `"${key}" adds files from the working tree, which giterminism forbids by default`, entry.keyNode, entry.segments, {
        hint: 'Commit the files instead, or allow it explicitly (allowContextAddFiles / the CLI flag).',
      });
      continue;
    }
    values.forEach((value, index) => {
      const fakeEntry: Entry = { key, keyNode: entry.keyNode, value: nodes[index], segments: [...entry.segments, index] };
      const normalised = relativePath(dc, fakeEntry, value, 'the build context', '', true);
      if (normalised !== undefined) base.contextAddFiles.push(normalised);
    });
  }

  const target = readString(dc, entries.get('target'));
  if (target) base.target = target;
  base.args = readStringMap(dc, entries.get('args'));
  base.addHost = readStringList(dc, entries.get('addHost')).values;
  const network = readString(dc, entries.get('network'));
  if (network) base.network = network;
  readStaged(dc, entries.get('staged'));
  const ssh = entries.get('ssh');
  if (ssh) {
    dc.report('UNSUPPORTED_FEATURE', 'SSH agent forwarding (`ssh`) is not supported', ssh.keyNode, ssh.segments, { hint: 'Remove `ssh`.' });
  }
  return base;
}

/**
 * Checks a relative path and returns it normalised (`./a/../b/` → `b`, `` → `.`). `base` is the
 * directory it is relative to, itself relative to the project; the joined path must stay inside the
 * project (or inside `base` when `withinBase`).
 */
function relativePath(dc: DocContext, entry: Entry | undefined, value: string, within: string, base: string, withinBase = false): string | undefined {
  const node = entry?.value;
  const segments = entry?.segments ?? [];
  const key = entry?.key ?? 'path';
  if (value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value) || value.startsWith('\\')) {
    dc.report('PATH_ESCAPES_PROJECT', `"${key}" must be a relative path inside ${within}, got absolute "${value}"`, node, segments, {
      hint: 'Write the path relative to the project directory (relative to the context for dockerfile and contextAddFiles).',
    });
    return undefined;
  }
  const normalised = posix.normalize(value === '' ? '.' : value).replace(/\/+$/, '') || '.';
  const joined = posix.normalize(posix.join(withinBase ? '.' : base || '.', normalised));
  if (joined === '..' || joined.startsWith('../')) {
    dc.report('PATH_ESCAPES_PROJECT', `"${key}" points outside ${within}: "${value}"`, node, segments, {
      hint: 'Files outside the project (outside the context for contextAddFiles) cannot be used.',
    });
    return undefined;
  }
  return normalised;
}

// ---------------------------------------------------------------- stapel images

interface StapelBase {
  kind: 'stapel';
  from: StapelFrom;
  /** `from:` value to resolve per image name; removed before returning. */
  fromCandidate?: { value: string; node: Node | undefined };
  fromCacheVersion?: string;
  disableGitAfterPatch: boolean;
  git: GitMapping[];
  shell: ShellInstructions;
  imports: Import[];
  docker: DockerInstructions;
  mounts: Mount[];
}

function readStapel(input: ImageDocInput, entries: Entries, refs: ImageReference[]): StapelBase | undefined {
  const { dc } = input;
  const base: StapelBase = {
    kind: 'stapel',
    from: { kind: 'scratch' },
    disableGitAfterPatch: readBoolean(dc, entries.get('disableGitAfterPatch')) ?? false,
    git: [],
    shell: { beforeInstall: [], install: [], beforeSetup: [], setup: [] },
    imports: [],
    docker: { volume: [], expose: [], env: {}, label: {} },
    mounts: [],
  };

  const fromEntries = (['from', 'fromImage', 'fromArtifact'] as const).flatMap((k) => entries.get(k) ?? []);
  if (fromEntries.length === 0) {
    dc.report('MISSING_KEY', 'the image needs a base: `from` (an image reference), `fromImage` (another image of this config), or `dockerfile`', input.root, [], {
      hint: 'Add e.g. `from: alpine:3.20`.',
    });
  }
  for (const extra of fromEntries.slice(1)) {
    dc.report('CONFLICTING_KEYS', `"${extra.key}" cannot be used together with "${fromEntries[0]?.key ?? 'from'}": an image has one base`, extra.keyNode, extra.segments, {
      hint: 'Keep only one of from, fromImage, fromArtifact.',
    });
  }
  const fromEntry = fromEntries[0];
  if (fromEntry) {
    const value = readString(dc, fromEntry);
    if (value === '' || (value !== undefined && /\s/.test(value))) {
      dc.report('INVALID_VALUE', `"${fromEntry.key}" must be a non-empty name without spaces, got "${value}"`, fromEntry.value, fromEntry.segments);
    } else if (value === undefined && isNullNode(fromEntry.value)) {
      dc.report('MISSING_KEY', `"${fromEntry.key}" needs a value`, fromEntry.keyNode, fromEntry.segments);
    } else if (value !== undefined) {
      if (fromEntry.key === 'from') {
        base.fromCandidate = { value, node: fromEntry.value };
      } else {
        const via = fromEntry.key === 'fromImage' ? 'fromImage' : 'fromArtifact';
        base.from = { kind: 'image', name: value, via };
        refs.push({ target: value, directive: via, node: fromEntry.value, segments: fromEntry.segments, dc });
      }
    }
  }
  const latest = entries.get('fromLatest');
  if (latest) {
    dc.report('UNSUPPORTED_FEATURE', '`fromLatest` (tracking the registry digest of the base image) is not supported', latest.keyNode, latest.segments, {
      hint: 'Remove `fromLatest`; pin the base image with a tag or digest, or bump fromCacheVersion.',
    });
  }
  const fromCacheVersion = readString(dc, entries.get('fromCacheVersion'));
  if (fromCacheVersion !== undefined) base.fromCacheVersion = fromCacheVersion;

  base.git = readGit(dc, entries.get('git'));
  const shell = entries.get('shell');
  if (shell && !isNullNode(shell.value)) base.shell = readShell(dc, shell);
  const ansible = entries.get('ansible');
  if (ansible) {
    dc.report('UNSUPPORTED_ANSIBLE', 'the `ansible` builder is not supported', ansible.keyNode, ansible.segments, {
      hint: 'Rewrite the tasks as `shell` commands.',
    });
    if (shell) {
      dc.report('CONFLICTING_KEYS', '"ansible" cannot be used together with "shell"', ansible.keyNode, ansible.segments, { hint: 'Use one builder per image.' });
    }
  }
  base.imports = readImports(dc, entries.get('import'), refs);
  const docker = entries.get('docker');
  if (docker && input.isArtifact) {
    dc.report('ARTIFACT_FORBIDDEN_DIRECTIVE', 'a legacy artifact cannot use "docker" (it is never a final image)', docker.keyNode, docker.segments, {
      hint: 'Remove `docker`, or turn the artifact into an image.',
    });
  } else if (docker && !isNullNode(docker.value)) {
    base.docker = readDocker(dc, docker);
  }
  base.mounts = readMounts(dc, entries.get('mount'));
  return base;
}

/** Items of a list directive (`git`, `import`, `mount`, `dependencies`) as mappings with their segments. */
function listItems(dc: DocContext, entry: Entry | undefined, keys: readonly string[]): { entries: Entries; node: Node; segments: Segment[] }[] {
  if (entry === undefined || isNullNode(entry.value)) return [];
  if (!isSeq(entry.value)) {
    dc.report('INVALID_TYPE', `"${entry.key}" must be a list, got ${describeNode(entry.value)}`, entry.value, entry.segments);
    return [];
  }
  const out: { entries: Entries; node: Node; segments: Segment[] }[] = [];
  entry.value.items.forEach((raw, index) => {
    const segments = [...entry.segments, index];
    const node = dc.deref(raw, segments);
    if (node === undefined) return;
    const entries = readMap(dc, node, segments, { keys });
    if (entries) out.push({ entries, node, segments });
  });
  return out;
}

function absolutePath(dc: DocContext, entry: Entry | undefined, what: string): string | undefined {
  const value = readString(dc, entry);
  if (value === undefined || entry === undefined) return undefined;
  if (!value.startsWith('/')) {
    dc.report('PATH_NOT_ABSOLUTE', `${what} must be an absolute path, got "${value}"`, entry.value, entry.segments, {
      hint: `Start the path with "/" (e.g. "/${value.replace(/^\.?\/*/, '')}").`,
    });
    return undefined;
  }
  return value;
}

function relativeGlobs(dc: DocContext, entry: Entry | undefined): string[] {
  const { values, nodes } = readStringList(dc, entry);
  values.forEach((value, index) => {
    if (value.startsWith('/') && entry) {
      dc.report('INVALID_VALUE', `"${entry.key}" globs are relative to "add", got absolute "${value}"`, nodes[index], [...entry.segments, index], {
        hint: 'Remove the leading "/".',
      });
    }
  });
  return values.filter((v) => !v.startsWith('/'));
}

function readGit(dc: DocContext, entry: Entry | undefined): GitMapping[] {
  const mappings: GitMapping[] = [];
  for (const item of listItems(dc, entry, GIT_KEYS)) {
    const { entries } = item;
    const url = entries.get('url');
    if (url) {
      dc.report('UNSUPPORTED_GIT_URL', 'git mappings from remote repositories (`url`) are not supported; only the project repository', url.keyNode, url.segments, {
        hint: 'Remove `url` (and branch/tag/commit) to map files of the project repository, or import them another way.',
      });
      continue;
    }
    for (const key of ['branch', 'tag', 'commit'] as const) {
      const e = entries.get(key);
      if (e) {
        dc.report('UNSUPPORTED_GIT_URL', `"${key}" only applies to remote git mappings (with \`url\`), which are not supported`, e.keyNode, e.segments, {
          hint: `Remove "${key}": the project repository is always used at the current commit.`,
        });
      }
    }
    const addEntry = entries.get('add');
    const add = addEntry ? absolutePath(dc, addEntry, 'git "add"') : '/';
    const toEntry = entries.get('to');
    if (toEntry === undefined || isNullNode(toEntry.value)) {
      dc.report('MISSING_KEY', 'a git mapping needs "to" (the absolute destination in the image)', toEntry?.keyNode ?? item.node, toEntry?.segments ?? item.segments, {
        hint: 'Add e.g. `to: /app`.',
      });
    }
    const to = absolutePath(dc, toEntry, 'git "to"');
    const mapping: GitMapping = {
      add: add ?? '/',
      to: to ?? '/',
      includePaths: relativeGlobs(dc, entries.get('includePaths')),
      excludePaths: relativeGlobs(dc, entries.get('excludePaths')),
      stageDependencies: { install: [], beforeSetup: [], setup: [] },
    };
    const owner = readString(dc, entries.get('owner'));
    if (owner !== undefined) mapping.owner = owner;
    const group = readString(dc, entries.get('group'));
    if (group !== undefined) mapping.group = group;
    const deps = entries.get('stageDependencies');
    if (deps && !isNullNode(deps.value)) {
      const map = readMap(dc, deps.value, deps.segments, { keys: ['install', 'beforeSetup', 'setup'] });
      if (map) {
        for (const stage of ['install', 'beforeSetup', 'setup'] as const) mapping.stageDependencies[stage] = relativeGlobs(dc, map.get(stage));
      }
    }
    mappings.push(mapping);
  }
  return mappings;
}

function readShell(dc: DocContext, entry: Entry): ShellInstructions {
  const shell: ShellInstructions = { beforeInstall: [], install: [], beforeSetup: [], setup: [] };
  const map = readMap(dc, entry.value, entry.segments, { keys: SHELL_KEYS });
  if (!map) return shell;
  for (const stage of SHELL_STAGES) {
    shell[stage] = readStringList(dc, map.get(stage)).values;
    const version = readString(dc, map.get(`${stage}CacheVersion`));
    if (version !== undefined) shell[`${stage}CacheVersion`] = version;
  }
  const version = readString(dc, map.get('cacheVersion'));
  if (version !== undefined) shell.cacheVersion = version;
  return shell;
}

/** `before:`/`after:` with `install|setup`, exactly one (imports and stapel dependencies). */
function readAnchor(dc: DocContext, entries: Entries, owner: Node, segments: Segment[], what: string): StageAnchor | undefined {
  const before = entries.get('before');
  const after = entries.get('after');
  if (before && after) {
    dc.report('CONFLICTING_KEYS', `${what} takes either "before" or "after", not both`, after.keyNode, after.segments, {
      hint: 'Keep one: `before: install|setup` or `after: install|setup`.',
    });
    return undefined;
  }
  const entry = before ?? after;
  if (!entry) {
    dc.report('MISSING_KEY', `${what} needs "before" or "after" (install or setup)`, owner, segments, {
      hint: 'Add e.g. `after: setup`.',
    });
    return undefined;
  }
  const stage = readEnum(dc, entry, STAGES);
  if (stage === undefined) {
    if (isNullNode(entry.value)) dc.report('MISSING_KEY', `"${entry.key}" needs a value: install or setup`, entry.keyNode, entry.segments);
    return undefined;
  }
  return entry.key === 'before' ? { before: stage } : { after: stage };
}

function readImports(dc: DocContext, entry: Entry | undefined, refs: ImageReference[]): Import[] {
  const imports: Import[] = [];
  for (const item of listItems(dc, entry, IMPORT_KEYS)) {
    const { entries } = item;
    const imageEntry = entries.get('image');
    const artifactEntry = entries.get('artifact');
    let source: { name: string; via: 'image' | 'artifact'; entry: Entry } | undefined;
    if (imageEntry && artifactEntry) {
      dc.report('CONFLICTING_KEYS', 'an import names either "image" or "artifact", not both', artifactEntry.keyNode, artifactEntry.segments, {
        hint: 'Keep one source per import.',
      });
    } else if (!imageEntry && !artifactEntry) {
      dc.report('MISSING_KEY', 'an import needs "image" (or legacy "artifact"): the image to copy files from', item.node, item.segments);
    } else {
      const e = (imageEntry ?? artifactEntry) as Entry;
      const name = readString(dc, e);
      if (!name) dc.report('MISSING_KEY', `"${e.key}" needs the name of an image of this config`, e.value ?? e.keyNode, e.segments);
      else source = { name, via: imageEntry ? 'image' : 'artifact', entry: e };
    }
    const stageEntry = entries.get('stage');
    if (stageEntry) {
      dc.report('UNSUPPORTED_FEATURE', 'importing from a specific stage (`stage`) is not supported', stageEntry.keyNode, stageEntry.segments, {
        hint: 'Remove `stage` to import from the last stage of the image.',
      });
    }
    const addEntry = entries.get('add');
    if (addEntry === undefined || isNullNode(addEntry.value)) {
      dc.report('MISSING_KEY', 'an import needs "add" (the absolute source path in the other image)', addEntry?.keyNode ?? item.node, addEntry?.segments ?? item.segments);
    }
    const add = absolutePath(dc, addEntry, 'import "add"');
    const toEntry = entries.get('to');
    const to = toEntry && !isNullNode(toEntry.value) ? absolutePath(dc, toEntry, 'import "to"') : add;
    const anchor = readAnchor(dc, entries, item.node, item.segments, 'an import');
    const includePaths = relativeGlobs(dc, entries.get('includePaths'));
    const excludePaths = relativeGlobs(dc, entries.get('excludePaths'));
    const owner = readString(dc, entries.get('owner'));
    const group = readString(dc, entries.get('group'));
    if (source) refs.push({ target: source.name, directive: 'import', node: source.entry.value, segments: source.entry.segments, dc });
    if (!source || add === undefined || to === undefined || !anchor) continue;
    const imp: Import = { image: source.name, via: source.via, add, to, includePaths, excludePaths, stage: anchor };
    if (owner !== undefined) imp.owner = owner;
    if (group !== undefined) imp.group = group;
    imports.push(imp);
  }
  return imports;
}

function readDocker(dc: DocContext, entry: Entry): DockerInstructions {
  const docker: DockerInstructions = { volume: [], expose: [], env: {}, label: {} };
  const map = readMap(dc, entry.value, entry.segments, { keys: DOCKER_KEYS });
  if (!map) return docker;
  docker.volume = readStringList(dc, map.get('VOLUME')).values;
  docker.expose = readStringList(dc, map.get('EXPOSE')).values;
  docker.env = readStringMap(dc, map.get('ENV'));
  docker.label = readStringMap(dc, map.get('LABEL'));
  for (const [key, field] of [['CMD', 'cmd'], ['ENTRYPOINT', 'entrypoint']] as const) {
    const e = map.get(key);
    if (e === undefined || isNullNode(e.value)) continue;
    if (isScalar(e.value)) docker[field] = scalarText(e.value);
    else if (isSeq(e.value)) docker[field] = readStringList(dc, e).values;
    else dc.report('INVALID_TYPE', `"${key}" must be a string or a list of strings, got ${describeNode(e.value)}`, e.value, e.segments);
  }
  for (const [key, field] of [['WORKDIR', 'workdir'], ['USER', 'user'], ['HEALTHCHECK', 'healthcheck']] as const) {
    const value = readString(dc, map.get(key));
    if (value !== undefined) docker[field] = value;
  }
  return docker;
}

function readMounts(dc: DocContext, entry: Entry | undefined): Mount[] {
  const mounts: Mount[] = [];
  const targets = new Map<string, { index: number; node: Node | undefined }>();
  for (const item of listItems(dc, entry, MOUNT_KEYS)) {
    const { entries } = item;
    const fromEntry = entries.get('from');
    const fromPathEntry = entries.get('fromPath');
    if (fromEntry && fromPathEntry) {
      dc.report('CONFLICTING_KEYS', 'a mount takes either "from" (tmp_dir, build_dir) or "fromPath", not both', fromPathEntry.keyNode, fromPathEntry.segments);
      continue;
    }
    if (!fromEntry && !fromPathEntry) {
      dc.report('MISSING_KEY', 'a mount needs "from: tmp_dir|build_dir" or "fromPath"', item.node, item.segments);
      continue;
    }
    const toEntry = entries.get('to');
    if (toEntry === undefined || isNullNode(toEntry.value)) {
      dc.report('MISSING_KEY', 'a mount needs "to" (the absolute path in the build container)', toEntry?.keyNode ?? item.node, toEntry?.segments ?? item.segments);
      continue;
    }
    const to = absolutePath(dc, toEntry, 'mount "to"');
    if (to === undefined) continue;
    const key = posix.normalize(to).replace(/(.)\/+$/, '$1');
    const previous = targets.get(key);
    if (previous !== undefined) {
      dc.report('DUPLICATE_MOUNT_TARGET', `mount target "${to}" is already used by mount[${previous.index}]`, toEntry.value, toEntry.segments, {
        hint: 'Each mount needs its own "to" path.',
        related: [{ at: previous.node, message: `mount[${previous.index}] mounts here` }],
      });
      continue;
    }
    targets.set(key, { index: item.segments[item.segments.length - 1] as number, node: toEntry.value });
    if (fromEntry) {
      const type = readEnum(dc, fromEntry, ['tmp_dir', 'build_dir'] as const);
      if (type) mounts.push({ type, to });
      else if (isNullNode(fromEntry.value)) dc.report('MISSING_KEY', '"from" needs a value: tmp_dir or build_dir', fromEntry.keyNode, fromEntry.segments);
    } else {
      const fromPath = readString(dc, fromPathEntry);
      if (!fromPath) {
        dc.report('MISSING_KEY', '"fromPath" needs a host path', fromPathEntry?.value ?? fromPathEntry?.keyNode, fromPathEntry?.segments ?? item.segments);
      } else {
        mounts.push({ type: 'custom_dir', fromPath, to });
      }
    }
  }
  return mounts;
}

function readDependencies(dc: DocContext, entry: Entry | undefined, refs: ImageReference[], isDockerfile: boolean): Dependency[] {
  const dependencies: Dependency[] = [];
  for (const item of listItems(dc, entry, DEPENDENCY_KEYS)) {
    const { entries } = item;
    const imageEntry = entries.get('image');
    const fromEntry = entries.get('from');
    let image: string | undefined;
    let imageNode: Entry | undefined;
    const named = imageEntry ?? fromEntry;
    if (imageEntry && fromEntry) {
      dc.report('CONFLICTING_KEYS', 'a dependency names its image with "image" or "from", not both', fromEntry.keyNode, fromEntry.segments);
    } else if (!named) {
      dc.report('MISSING_KEY', 'a dependency needs "image": the image of this config it depends on', item.node, item.segments);
    } else {
      imageNode = named;
      image = readString(dc, imageNode);
      if (!image) {
        dc.report('MISSING_KEY', `"${imageNode.key}" needs the name of an image of this config`, imageNode.value ?? imageNode.keyNode, imageNode.segments);
        image = undefined;
      }
    }
    let stage: StageAnchor | undefined;
    if (isDockerfile) {
      for (const key of ['before', 'after'] as const) {
        const e = entries.get(key);
        if (e) {
          dc.report('CONFLICTING_KEYS', `"${key}" only applies to stapel images; a Dockerfile image receives dependencies as build args`, e.keyNode, e.segments, {
            hint: `Remove "${key}".`,
          });
        }
      }
    } else {
      stage = readAnchor(dc, entries, item.node, item.segments, 'a stapel dependency');
    }
    const imports = readDependencyImports(dc, entries.get('imports'), isDockerfile);
    if (image !== undefined && imageNode !== undefined) {
      refs.push({ target: image, directive: 'dependencies', node: imageNode.value, segments: imageNode.segments, dc });
    }
    if (image === undefined || (!isDockerfile && stage === undefined) || imports === undefined) continue;
    const dependency: Dependency = { image, imports };
    if (stage) dependency.stage = stage;
    dependencies.push(dependency);
  }
  return dependencies;
}

function readDependencyImports(dc: DocContext, entry: Entry | undefined, isDockerfile: boolean): DependencyImport[] | undefined {
  const imports: DependencyImport[] = [];
  let ok = true;
  const wanted = isDockerfile ? 'targetBuildArg' : 'targetEnv';
  const other = isDockerfile ? 'targetEnv' : 'targetBuildArg';
  const seen = new Map<string, number>();
  for (const item of listItems(dc, entry, DEPENDENCY_IMPORT_KEYS)) {
    const { entries } = item;
    const typeEntry = entries.get('type');
    const type = typeEntry ? readEnum(dc, typeEntry, DEPENDENCY_IMPORT_TYPES) : undefined;
    if (!typeEntry || (isNullNode(typeEntry.value) && type === undefined)) {
      dc.report('MISSING_KEY', `a dependency import needs "type" (${DEPENDENCY_IMPORT_TYPES.join(', ')})`, typeEntry?.keyNode ?? item.node, typeEntry?.segments ?? item.segments);
    }
    const otherEntry = entries.get(other);
    if (otherEntry) {
      dc.report('CONFLICTING_KEYS', `"${other}" is for ${isDockerfile ? 'stapel' : 'Dockerfile'} images; this image uses "${wanted}"`, otherEntry.keyNode, otherEntry.segments, {
        hint: `Rename "${other}" to "${wanted}".`,
      });
      ok = false;
    }
    const targetEntry = entries.get(wanted);
    const target = readString(dc, targetEntry);
    if (!target) {
      if (!otherEntry) {
        dc.report('MISSING_KEY', `a dependency import needs "${wanted}"`, targetEntry?.keyNode ?? item.node, targetEntry?.segments ?? item.segments);
      }
      ok = false;
      continue;
    }
    const previous = seen.get(target);
    if (previous !== undefined && targetEntry) {
      dc.report('CONFLICTING_KEYS', `"${wanted}" ${target} is already set by import [${previous}]`, targetEntry.value, targetEntry.segments);
      ok = false;
      continue;
    }
    seen.set(target, item.segments[item.segments.length - 1] as number);
    if (type === undefined) {
      ok = false;
      continue;
    }
    imports.push(isDockerfile ? { type, targetBuildArg: target } : { type, targetEnv: target });
  }
  return ok ? imports : undefined;
}

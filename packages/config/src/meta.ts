import { isScalar, isSeq, type Node } from 'yaml';
import { readImageSpec } from './image-spec.js';
import type {
  CleanupKeepPolicy,
  CleanupLimit,
  CleanupReferences,
  ResolvedBuildSettings,
  ResolvedCleanupSettings,
  ResolvedDeploySettings,
  ResolvedGitWorktreeSettings,
} from './types.js';
import {
  describeNode,
  isNullNode,
  readBoolean,
  readEnum,
  readInteger,
  readMap,
  readString,
  readStringList,
  type DocContext,
  type Entries,
  type Entry,
} from './walk.js';

export const META_KEYS = ['project', 'configVersion', 'build', 'deploy', 'cleanup', 'gitWorktree'] as const;
const BUILD_KEYS = ['cacheVersion', 'platform', 'staged', 'imageSpec', 'secrets', 'sbom'] as const;
const DEPLOY_KEYS = ['helmChartDir', 'helmChartConfig', 'helmRelease', 'helmReleaseSlug', 'namespace', 'namespaceSlug'] as const;
const CLEANUP_KEYS = [
  'disableKubernetesBasedPolicy',
  'disableGitHistoryBasedPolicy',
  'disableBuiltWithinLastNHoursPolicy',
  'keepImagesBuiltWithinLastNHours',
  'keepPolicies',
] as const;
const GIT_WORKTREE_KEYS = ['forceShallowClone', 'allowUnshallow', 'allowFetchOriginBranchesAndTags'] as const;

export const PROJECT_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const PROJECT_NAME_MAX_LENGTH = 50;

export interface MetaResult {
  project?: string;
  configVersion?: 1;
  build: ResolvedBuildSettings;
  deploy?: ResolvedDeploySettings;
  cleanup: ResolvedCleanupSettings;
  gitWorktree: ResolvedGitWorktreeSettings;
}

/** Validates the meta document (already known to be a mapping). */
export function readMeta(dc: DocContext, root: Node, hostPlatform: string): MetaResult {
  const result: MetaResult = {
    build: { platform: [], staged: false },
    cleanup: {
      disableKubernetesBasedPolicy: false,
      disableGitHistoryBasedPolicy: false,
      disableBuiltWithinLastNHoursPolicy: false,
      keepImagesBuiltWithinLastNHours: 2,
    },
    gitWorktree: { forceShallowClone: false, allowUnshallow: true, allowFetchOriginBranchesAndTags: true },
  };
  const entries = readMap(dc, root, [], {
    keys: META_KEYS,
    unknownHint: (key) => (key === 'image' || key === 'artifact' ? 'images go in their own document, after a `---` line' : undefined),
  });
  if (!entries) return result;

  const project = readProject(dc, entries, root);
  if (project !== undefined) result.project = project;
  const version = entries.get('configVersion');
  if (version === undefined || isNullNode(version.value)) {
    dc.report('MISSING_KEY', '"configVersion" is required in the meta document', version?.keyNode ?? root, ['configVersion'], {
      hint: 'Add `configVersion: 1`.',
    });
  } else if (!isScalar(version.value) || version.value.value !== 1) {
    dc.report('INVALID_CONFIG_VERSION', `configVersion must be 1, got ${isScalar(version.value) ? JSON.stringify(version.value.toJSON()) : describeNode(version.value)}`, version.value, version.segments, {
      hint: 'werf config syntax has a single version: write `configVersion: 1`.',
    });
  } else {
    result.configVersion = 1;
  }

  const build = entries.get('build');
  if (build && !isNullNode(build.value)) readBuild(dc, build, hostPlatform, result.build);
  const deploy = entries.get('deploy');
  if (deploy && !isNullNode(deploy.value)) {
    const value = readDeploy(dc, deploy);
    if (value) result.deploy = value;
  }
  const cleanup = entries.get('cleanup');
  if (cleanup && !isNullNode(cleanup.value)) readCleanup(dc, cleanup, result.cleanup);
  const worktree = entries.get('gitWorktree');
  if (worktree && !isNullNode(worktree.value)) {
    const map = readMap(dc, worktree.value, worktree.segments, { keys: GIT_WORKTREE_KEYS });
    if (map) {
      for (const key of GIT_WORKTREE_KEYS) {
        const value = readBoolean(dc, map.get(key));
        if (value !== undefined) result.gitWorktree[key] = value;
      }
    }
  }
  return result;
}

function readProject(dc: DocContext, entries: Entries, root: Node): string | undefined {
  const entry = entries.get('project');
  if (entry === undefined || isNullNode(entry.value)) {
    dc.report('MISSING_KEY', '"project" is required in the meta document', entry?.keyNode ?? root, ['project'], {
      hint: 'Add `project: my-project` (lowercase letters, digits and dashes).',
    });
    return undefined;
  }
  const value = readString(dc, entry);
  if (value === undefined) return undefined;
  let problem: string | undefined;
  if (value === '') problem = 'must not be empty';
  else if (value.length > PROJECT_NAME_MAX_LENGTH) problem = `must be at most ${PROJECT_NAME_MAX_LENGTH} characters, got ${value.length}`;
  else if (!PROJECT_NAME_PATTERN.test(value)) problem = 'may contain only lowercase letters, digits and dashes, and must start and end with a letter or digit';
  if (problem !== undefined) {
    const suggestion = value
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, PROJECT_NAME_MAX_LENGTH)
      .replace(/^-+|-+$/g, '');
    const example = PROJECT_NAME_PATTERN.test(suggestion) ? ` such as "${suggestion}"` : '';
    dc.report('INVALID_PROJECT_NAME', `project name "${value}" ${problem}`, entry.value, entry.segments, {
      hint: `Use a name${example} matching ${PROJECT_NAME_PATTERN.source}, at most ${PROJECT_NAME_MAX_LENGTH} characters.`,
    });
    return undefined;
  }
  return value;
}

/** `platform` (meta `build.platform` or an image's own): only the host platform is accepted. */
export function readPlatform(dc: DocContext, entry: Entry | undefined, hostPlatform: string): string[] {
  const { values, nodes } = readStringList(dc, entry);
  const accepted: string[] = [];
  values.forEach((platform, index) => {
    if (platform === hostPlatform) {
      if (!accepted.includes(platform)) accepted.push(platform);
      return;
    }
    dc.report('UNSUPPORTED_PLATFORM', `building for platform "${platform}" is not supported (only the host platform, ${hostPlatform})`, nodes[index], [...(entry?.segments ?? []), index], {
      hint: `Remove "${platform}"; multi-platform builds are planned for later.`,
    });
  });
  return accepted;
}

/** `staged`: only `false` is accepted. */
export function readStaged(dc: DocContext, entry: Entry | undefined): void {
  if (readBoolean(dc, entry) === true && entry) {
    dc.report('UNSUPPORTED_STAGED', '`staged: true` (layer-by-layer Dockerfile caching) is not supported', entry.value, entry.segments, {
      hint: 'Remove `staged` or set it to false.',
    });
  }
}

export function reportSecrets(dc: DocContext, entry: Entry | undefined): void {
  if (entry === undefined) return;
  dc.report('UNSUPPORTED_SECRETS', 'build secrets (`secrets`) are not supported yet', entry.keyNode, entry.segments, {
    hint: 'Remove `secrets`; pass what the build needs another way for now.',
  });
}

function readBuild(dc: DocContext, entry: Entry, hostPlatform: string, out: ResolvedBuildSettings): void {
  const map = readMap(dc, entry.value, entry.segments, { keys: BUILD_KEYS });
  if (!map) return;
  const cacheVersion = readString(dc, map.get('cacheVersion'));
  if (cacheVersion !== undefined) out.cacheVersion = cacheVersion;
  out.platform = readPlatform(dc, map.get('platform'), hostPlatform);
  readStaged(dc, map.get('staged'));
  reportSecrets(dc, map.get('secrets'));
  const sbom = map.get('sbom');
  if (sbom) {
    dc.report('UNSUPPORTED_FEATURE', 'SBOM generation (`build.sbom`) is not supported', sbom.keyNode, sbom.segments, { hint: 'Remove `sbom`.' });
  }
  const spec = map.get('imageSpec');
  if (spec && !isNullNode(spec.value)) {
    const value = readImageSpec(dc, spec, true);
    if (value) out.imageSpec = value;
  }
}

function readDeploy(dc: DocContext, entry: Entry): ResolvedDeploySettings | undefined {
  const map = readMap(dc, entry.value, entry.segments, { keys: DEPLOY_KEYS });
  if (!map) return undefined;
  const deploy: ResolvedDeploySettings = {
    helmChartDir: readString(dc, map.get('helmChartDir')) ?? '.helm',
    helmReleaseSlug: readBoolean(dc, map.get('helmReleaseSlug')) ?? true,
    namespaceSlug: readBoolean(dc, map.get('namespaceSlug')) ?? true,
  };
  const release = readString(dc, map.get('helmRelease'));
  if (release !== undefined) deploy.helmRelease = release;
  const namespace = readString(dc, map.get('namespace'));
  if (namespace !== undefined) deploy.namespace = namespace;
  const chartConfig = map.get('helmChartConfig');
  if (chartConfig && !isNullNode(chartConfig.value)) {
    const chart = readMap(dc, chartConfig.value, chartConfig.segments, { keys: ['appVersion'] });
    const appVersion = readString(dc, chart?.get('appVersion'));
    if (appVersion !== undefined) deploy.helmChartAppVersion = appVersion;
  }
  return deploy;
}

function readCleanup(dc: DocContext, entry: Entry, out: ResolvedCleanupSettings): void {
  const map = readMap(dc, entry.value, entry.segments, {
    keys: CLEANUP_KEYS,
    unknownHint: (key) => (key === 'policies' ? 'werf 1.1 `policies` were replaced by `keepPolicies`' : undefined),
  });
  if (!map) return;
  for (const key of ['disableKubernetesBasedPolicy', 'disableGitHistoryBasedPolicy', 'disableBuiltWithinLastNHoursPolicy'] as const) {
    const value = readBoolean(dc, map.get(key));
    if (value !== undefined) out[key] = value;
  }
  const hours = readInteger(dc, map.get('keepImagesBuiltWithinLastNHours'), 0);
  if (hours !== undefined) out.keepImagesBuiltWithinLastNHours = hours;
  const policies = map.get('keepPolicies');
  if (policies === undefined || isNullNode(policies.value)) return;
  const list = policies.value;
  if (!isSeq(list)) {
    dc.report('INVALID_TYPE', `"keepPolicies" must be a list, got ${describeNode(list)}`, list, policies.segments);
    return;
  }
  const result: CleanupKeepPolicy[] = [];
  list.items.forEach((raw, index) => {
    const segments = [...policies.segments, index];
    const item = dc.deref(raw, segments);
    if (item === undefined) return;
    const policy = readMap(dc, item, segments, { keys: ['references', 'imagesPerReference'] });
    if (!policy) return;
    const refsEntry = policy.get('references');
    if (refsEntry === undefined || isNullNode(refsEntry.value)) {
      dc.report('MISSING_KEY', 'a keep policy needs "references" (a branch or a tag)', refsEntry?.keyNode ?? item, segments);
      return;
    }
    const references = readReferences(dc, refsEntry);
    if (!references) return;
    const keep: CleanupKeepPolicy = { references };
    const perRef = policy.get('imagesPerReference');
    if (perRef && !isNullNode(perRef.value)) {
      const limit = readLimit(dc, perRef);
      if (limit) keep.imagesPerReference = limit;
    }
    result.push(keep);
  });
  out.keepPolicies = result;
}

function readReferences(dc: DocContext, entry: Entry): CleanupReferences | undefined {
  const map = readMap(dc, entry.value, entry.segments, { keys: ['branch', 'tag', 'limit'] });
  if (!map) return undefined;
  const branch = readString(dc, map.get('branch'));
  const tag = readString(dc, map.get('tag'));
  if ((branch === undefined) === (tag === undefined)) {
    const both = branch !== undefined;
    dc.report(both ? 'CONFLICTING_KEYS' : 'MISSING_KEY', both ? 'references take either "branch" or "tag", not both' : 'references need "branch" or "tag"', both ? map.get('tag')?.keyNode : entry.value, both ? [...entry.segments, 'tag'] : entry.segments, {
      hint: 'Write one keep policy per kind of reference: `branch: /.*/` or `tag: /.*/`.',
    });
    return undefined;
  }
  const pattern = (branch ?? tag) as string;
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    try {
      new RegExp(pattern.slice(1, -1));
    } catch {
      const which = branch !== undefined ? 'branch' : 'tag';
      dc.report('INVALID_VALUE', `"${which}" is not a valid regular expression: ${pattern}`, map.get(which)?.value, [...entry.segments, which]);
      return undefined;
    }
  }
  const refs: CleanupReferences = branch !== undefined ? { branch } : { tag: pattern };
  const limit = map.get('limit');
  if (limit && !isNullNode(limit.value)) {
    const value = readLimit(dc, limit);
    if (value) refs.limit = value;
  }
  return refs;
}

function readLimit(dc: DocContext, entry: Entry): CleanupLimit | undefined {
  const map = readMap(dc, entry.value, entry.segments, { keys: ['last', 'in', 'operator'] });
  if (!map) return undefined;
  const limit: CleanupLimit = {};
  const last = readInteger(dc, map.get('last'), -1);
  if (last !== undefined) limit.last = last;
  const inEntry = map.get('in');
  const within = readString(dc, inEntry);
  if (within !== undefined) {
    if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(within)) {
      dc.report('INVALID_VALUE', `"in" must be a duration such as 168h or 30m, got "${within}"`, inEntry?.value, inEntry?.segments ?? entry.segments);
    } else {
      limit.in = within;
    }
  }
  const operator = readEnum(dc, map.get('operator'), ['And', 'Or'] as const);
  if (operator !== undefined) limit.operator = operator;
  else if (limit.last !== undefined && limit.in !== undefined) limit.operator = 'And';
  return limit;
}

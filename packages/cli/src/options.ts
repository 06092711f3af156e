/**
 * Resolution of the storage, lock and build options from the command line and the environment.
 * Pure: takes the parsed flags and an environment record (never `process.env`), returns resolved
 * values or throws {@link UsageError}.
 *
 * Precedence, per option: a flag wins over `STRATA_*`, which wins over werf's `WERF_*`. For the
 * list options (secondary and cache repos) the precedence is per source: when any flag is given only
 * the flags count; otherwise every `STRATA_*` variable of that list; otherwise every `WERF_*` one.
 */
import { parseRepository } from '@strata/registry';
import { redactCredentials } from '@strata/errors';
import { DEFAULT_PARALLEL_TASKS_LIMIT } from '@strata/core';
import { UsageError } from './command.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The `--synchronization` value for file locks on this host. */
export const LOCAL_SYNCHRONIZATION = ':local';

/** The storage organisation of a build (SPEC §3.2); every repo is validated `registry/path` text. */
export interface StorageOptions {
  /** The primary repository; `undefined` means local Docker storage. */
  repo: string | undefined;
  secondaryRepos: string[];
  cacheRepos: string[];
  finalRepo: string | undefined;
}

export interface BuildOptions extends StorageOptions {
  /** `:local` or `redis://…`. */
  synchronization: string;
  /** ≤ 0 means unlimited. */
  parallelTasksLimit: number;
  reportPath: string | undefined;
}

/** The raw values the storage options are resolved from (the parsed flags). */
export interface StorageFlags {
  repo?: string | undefined;
  'secondary-repo'?: readonly string[] | undefined;
  'cache-repo'?: readonly string[] | undefined;
  'final-repo'?: string | undefined;
}

export interface BuildFlags extends StorageFlags {
  synchronization?: string | undefined;
  'parallel-tasks-limit'?: string | undefined;
  'report-path'?: string | undefined;
}

/** Where a value came from, for messages. */
interface Sourced {
  value: string;
  source: string;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** The first set of: the flag, then each variable in order. */
function pickScalar(flag: string | undefined, flagName: string, env: Env, names: readonly string[]): Sourced | undefined {
  if (nonEmpty(flag)) return { value: flag.trim(), source: `--${flagName}` };
  for (const name of names) {
    const value = env[name];
    if (nonEmpty(value)) return { value: value.trim(), source: name };
  }
  return undefined;
}

/** Splits a list variable on commas and white space. */
function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item !== '');
}

/**
 * Values of `<base>` (a comma/space separated list, when `withPlain`) and every `<base>_<NAME>`
 * variable, ordered by NAME so the result does not depend on the environment's order.
 */
function collectList(env: Env, base: string, withPlain: boolean): Sourced[] {
  const found: Sourced[] = [];
  if (withPlain && nonEmpty(env[base])) {
    for (const item of splitList(env[base])) found.push({ value: item, source: base });
  }
  const named = Object.keys(env)
    .filter((key) => key.startsWith(`${base}_`) && key.length > base.length + 1 && nonEmpty(env[key]))
    .sort();
  for (const key of named) {
    for (const item of splitList(env[key] as string)) found.push({ value: item, source: key });
  }
  return found;
}

function pickList(flags: readonly string[] | undefined, flagName: string, env: Env, strataBase: string, werfBase: string): Sourced[] {
  const fromFlags = (flags ?? []).flatMap(splitList).map((value) => ({ value, source: `--${flagName}` }));
  if (fromFlags.length > 0) return fromFlags;
  const strata = collectList(env, strataBase, true);
  if (strata.length > 0) return strata;
  return collectList(env, werfBase, false);
}

/** Checks that `text` is a registry repository (`host[:port]/path`); returns it unchanged. */
function validRepo(sourced: Sourced): string {
  try {
    parseRepository(sourced.value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `${sourced.source}: ${redactCredentials(JSON.stringify(sourced.value))} is not a registry repository (${redactCredentials(why)})`,
      'Give HOST[:PORT]/PATH, e.g. 127.0.0.1:5000/myproject-stages.',
    );
  }
  if (sourced.value.includes('@') || /:[^/]*$/.test(sourced.value.slice(sourced.value.lastIndexOf('/')))) {
    throw new UsageError(`${sourced.source}: ${redactCredentials(JSON.stringify(sourced.value))} names an image (tag or digest), not a repository`, 'Drop the :tag or @digest.');
  }
  return sourced.value;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Resolves the storage options (SPEC §3.2). @throws UsageError on an invalid repository. */
export function resolveStorageOptions(flags: StorageFlags, env: Env): StorageOptions {
  const repo = pickScalar(flags.repo, 'repo', env, ['STRATA_REPO', 'WERF_REPO']);
  const finalRepo = pickScalar(flags['final-repo'], 'final-repo', env, ['STRATA_FINAL_REPO', 'WERF_FINAL_REPO']);
  const secondaryRepos = unique(pickList(flags['secondary-repo'], 'secondary-repo', env, 'STRATA_SECONDARY_REPO', 'WERF_SECONDARY_REPO').map(validRepo));
  const cacheRepos = unique(pickList(flags['cache-repo'], 'cache-repo', env, 'STRATA_CACHE_REPO', 'WERF_CACHE_REPO').map(validRepo));
  const resolved: StorageOptions = {
    repo: repo === undefined ? undefined : validRepo(repo),
    secondaryRepos,
    cacheRepos,
    finalRepo: finalRepo === undefined ? undefined : validRepo(finalRepo),
  };
  if (resolved.repo === undefined) {
    const needsPrimary = [
      resolved.secondaryRepos.length > 0 ? 'secondary' : undefined,
      resolved.cacheRepos.length > 0 ? 'cache' : undefined,
      resolved.finalRepo !== undefined ? 'final' : undefined,
    ].filter((kind) => kind !== undefined);
    if (needsPrimary.length > 0) {
      throw new UsageError(
        `${needsPrimary.join(', ')} repositories need a primary repository`,
        'Give --repo (or STRATA_REPO / WERF_REPO); without it stages live in the local Docker daemon.',
      );
    }
  }
  const primary = resolved.repo;
  if (primary !== undefined) {
    const clash = [...resolved.secondaryRepos, ...resolved.cacheRepos, resolved.finalRepo].find((other) => other === primary);
    if (clash !== undefined) {
      throw new UsageError(`the primary repository ${redactCredentials(primary)} is also given as a secondary, cache or final repository`, 'Each repository has one role.');
    }
  }
  return resolved;
}

/** Parses a `--parallel-tasks-limit` value: an integer; ≤ 0 means unlimited. */
function parseParallelTasksLimit(sourced: Sourced | undefined): number {
  if (sourced === undefined) return DEFAULT_PARALLEL_TASKS_LIMIT;
  if (!/^-?\d+$/.test(sourced.value)) {
    throw new UsageError(`${sourced.source}: ${JSON.stringify(sourced.value)} is not an integer`, 'Give the number of images built at once; 0 or less means unlimited.');
  }
  return Number(sourced.value);
}

/** Checks a `--synchronization` value: `:local` or `redis://HOST[:PORT][/DB]`. */
export function parseSynchronization(sourced: Sourced | undefined): string {
  if (sourced === undefined) return LOCAL_SYNCHRONIZATION;
  if (sourced.value === LOCAL_SYNCHRONIZATION || /^redis:\/\/[^/\s]+(\/\d+)?\/?$/i.test(sourced.value)) return sourced.value;
  throw new UsageError(
    `${sourced.source}: unsupported synchronization ${redactCredentials(JSON.stringify(sourced.value))}`,
    'Use :local (file locks on this host, the default) or redis://HOST:PORT[/DB].',
  );
}

/** Resolves `--parallel-tasks-limit` (flag > STRATA_PARALLEL_TASKS_LIMIT > WERF_PARALLEL_TASKS_LIMIT > 5). */
export function resolveParallelTasksLimit(flag: string | undefined, env: Env): number {
  return parseParallelTasksLimit(pickScalar(flag, 'parallel-tasks-limit', env, ['STRATA_PARALLEL_TASKS_LIMIT', 'WERF_PARALLEL_TASKS_LIMIT']));
}

/** Resolves every option of `strata build`. @throws UsageError on any invalid value. */
export function resolveBuildOptions(flags: BuildFlags, env: Env): BuildOptions {
  const storage = resolveStorageOptions(flags, env);
  return {
    ...storage,
    synchronization: parseSynchronization(pickScalar(flags.synchronization, 'synchronization', env, ['STRATA_SYNCHRONIZATION', 'WERF_SYNCHRONIZATION'])),
    parallelTasksLimit: resolveParallelTasksLimit(flags['parallel-tasks-limit'], env),
    reportPath: pickScalar(flags['report-path'], 'report-path', env, ['STRATA_REPORT_PATH'])?.value,
  };
}

/** The help lines of the storage and build options, naming their variables. */
export const STORAGE_OPTION_HELP = {
  repo: 'Primary stages repository HOST[:PORT]/PATH (env STRATA_REPO, WERF_REPO); default: local Docker storage',
  'secondary-repo': 'Read-only repository to copy stages from; repeatable (env STRATA_SECONDARY_REPO (comma/space list), STRATA_SECONDARY_REPO_<NAME>, WERF_SECONDARY_REPO_<NAME>)',
  'cache-repo': 'Cache repository, read first and written too; repeatable (env STRATA_CACHE_REPO, STRATA_CACHE_REPO_<NAME>, WERF_CACHE_REPO_<NAME>)',
  'final-repo': 'Repository that receives the last stage of each final image (env STRATA_FINAL_REPO, WERF_FINAL_REPO)',
} as const;

export const BUILD_OPTION_HELP = {
  ...STORAGE_OPTION_HELP,
  synchronization: 'Publish locks: :local (default, one host) or redis://HOST:PORT[/DB] (env STRATA_SYNCHRONIZATION, WERF_SYNCHRONIZATION)',
  'parallel-tasks-limit': `Images built at once, ≤ 0 unlimited (default ${DEFAULT_PARALLEL_TASKS_LIMIT}; env STRATA_PARALLEL_TASKS_LIMIT, WERF_PARALLEL_TASKS_LIMIT)`,
  'report-path': 'Write the build report (werf format + Digest/StageID/Status) as JSON to FILE (env STRATA_REPORT_PATH)',
} as const;

/** The precedence note every build-like command's help ends with. */
export const PRECEDENCE_NOTE = 'Precedence: a flag wins over STRATA_* variables, which win over WERF_* variables.';

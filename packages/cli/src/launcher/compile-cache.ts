/**
 * Loads the bundled CLI (one CommonJS file) with a V8 code cache, as Node 22's
 * `module.enableCompileCache()` does for every module (Node 20 has no such switch).
 *
 * Why: a fresh `strata` process spends most of a no-op build's time compiling JavaScript: the bundle's
 * top level at load, then every function on its first call. V8 can serialise the bytecode of all the
 * functions compiled so far (`vm.Script#createCachedData`); handing that back to the next process skips
 * parsing and compiling them. The cache is written once the command has run, so it holds the code a
 * real command uses, not only the top level.
 *
 * Contract:
 * - The cache file is keyed by the bundle's bytes, the Node version, the architecture and V8's flags,
 *   so a new bundle or another Node never reads a stale cache; V8 verifies the data again and rejects
 *   (never misuses) a mismatch, after which the file is rewritten.
 * - The cache is an optimisation only: a missing, unreadable, corrupt or unwritable cache never fails
 *   the program; it costs start-up time and nothing else. Writes are atomic (temp file + rename), so
 *   concurrent processes never read half a file.
 * - One cache per bundle location and variant (the CLI's command), each written by its first run.
 * - The cache holds compiled code of Strata's own bundle, nothing from the command's input. Saving a
 *   new bundle's cache removes the caches of earlier bundles at the same location and variant.
 * - `status` reports what this process saw; when the same source was already compiled in this process,
 *   V8 answers from memory and reports no rejection (one load per process, as the launcher does).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';

/** The default cache directory: `$STRATA_CACHE_DIR/v8`, else `~/.strata/cache/v8`. */
export function defaultCompileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.STRATA_CACHE_DIR ?? path.join(homedir(), '.strata', 'cache');
  return path.join(root, 'v8');
}

export interface CompileCacheOptions {
  /** Where cache files live; `undefined` disables the cache. @default {@link defaultCompileCacheDir} */
  dir?: string | undefined;
  /**
   * Which kind of run this is (e.g. the CLI command): each variant has its own cache, written by its
   * first run, so a cache written by `--help` never stands in for the code a build runs. A name of
   * letters, digits and dashes.
   * @default "main"
   */
  variant?: string | undefined;
}

/** What became of the cache for one load, for diagnostics and tests. */
export type CompileCacheStatus = 'disabled' | 'missing' | 'accepted' | 'rejected';

export interface LoadedBundle {
  /** `module.exports` of the bundle after its top level ran. */
  exports: unknown;
  status: CompileCacheStatus;
  /** The cache file of this bundle (`undefined` when disabled). */
  cacheFile: string | undefined;
  /**
   * Writes the cache when it was missing or rejected; call it once the program's work is done, so the
   * functions it ran are in the cache. Never throws; returns whether a file was written.
   */
  save(): boolean;
}

/** The cache file name of a bundle's source for this Node: changes with any byte, version or flag. */
export function compileCacheKey(source: string): string {
  return createHash('sha256')
    .update(source)
    .update('\0')
    .update(`${process.version} ${process.arch} ${process.execArgv.join(' ')}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Runs the CommonJS module in `file` (a bundle: its `require` resolves next to the file) with a code
 * cache from `options.dir`. Synchronous, like `require`.
 */
export function loadWithCompileCache(file: string, options: CompileCacheOptions = { dir: defaultCompileCacheDir() }): LoadedBundle {
  const filename = path.resolve(file);
  const source = readFileSync(filename, 'utf8');
  const variant = options.variant ?? 'main';
  if (!/^[A-Za-z0-9-]+$/.test(variant)) throw new TypeError(`compile cache variant ${JSON.stringify(variant)} must be letters, digits and dashes`);
  // The prefix names the bundle by its file name, installed location and Node version, and the
  // variant: stale caches are pruned within it only, so two installs or two Node versions running the
  // same install never delete each other's.
  const place = createHash('sha256').update(path.dirname(filename)).update('\0').update(process.version).digest('hex').slice(0, 8);
  const prefix = `${path.basename(filename)}-${place}-${variant}-`;
  const cacheFile = options.dir === undefined ? undefined : path.join(options.dir, `${prefix}${compileCacheKey(source)}.v8`);
  let cachedData: Buffer | undefined;
  if (cacheFile !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined; // missing or unreadable: compile from source
    }
  }
  // The same wrapper Node uses for CommonJS files, so the bundle sees exports/require/module/__filename/__dirname.
  const script = new Script(Module.wrap(source), { filename, cachedData });
  const status: CompileCacheStatus = cacheFile === undefined ? 'disabled' : cachedData === undefined ? 'missing' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, path.dirname(filename));
  return {
    exports: module.exports,
    status,
    cacheFile,
    save: () => {
      if (cacheFile === undefined || (status !== 'missing' && status !== 'rejected')) return false;
      if (!writeAtomically(cacheFile, script.createCachedData())) return false;
      removeStale(cacheFile, prefix);
      return true;
    },
  };
}

/** Removes the caches of earlier bundles at the same place, same variant (`<prefix><other key>.v8`); best effort. */
function removeStale(current: string, prefix: string): void {
  const dir = path.dirname(current);
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && name.endsWith('.v8') && path.join(dir, name) !== current) rmSync(path.join(dir, name), { force: true });
    }
  } catch {
    // Another process may be pruning too; a stale file only costs disk space.
  }
}

function writeAtomically(file: string, data: Buffer): boolean {
  const temp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, data);
    renameSync(temp, file);
    return true;
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The directory itself is unusable: there is no temp file to remove.
    }
    return false;
  }
}

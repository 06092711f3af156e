/**
 * Where a config's files come from: the {@link ConfigSource} port and its working-tree adapter.
 * The git-commit adapter (werf's default, giterminism) lives in the CLI, which may depend on git.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Commit data a templated config sees as `.Commit`. */
export interface ConfigCommit {
  /** Full commit id (`.Commit.Hash`). */
  readonly hash: string;
  /** Committer time (`.Commit.Date.Unix`, `.Commit.Date.Human`). */
  readonly date: Date;
  /** Committer's zone offset east of UTC in minutes, for `.Commit.Date.Human`. @default 0 */
  readonly timezoneOffsetMinutes?: number | undefined;
}

/** Options of every {@link ConfigSource} call. */
export interface ConfigSourceCallOptions {
  signal?: AbortSignal | undefined;
}

/**
 * The files of one project snapshot that loading a config may read: the config file itself, the
 * template partials (`.werf/**\/*.tmpl`), `werf-giterminism.yaml`, and whatever `.Files.*` asks for.
 *
 * Paths are relative to the project directory, `/`-separated, without `./`. A source is an
 * immutable snapshot for the duration of a load (a commit, or the working tree as it is): calls are
 * idempotent, may run concurrently and in any order. A miss is `undefined` (or an empty listing),
 * never an error; a failure to read (permissions, a directory where a file was expected, git
 * failing) rejects. Every call rejects with the signal's reason when aborted.
 */
export interface ConfigSource {
  /** For messages: `commit 1a2b3c4` or `the working tree of /src/app`. */
  readonly description: string;
  /** The text (UTF-8) of the regular file at `path`, or `undefined` when there is none. */
  findFile(path: string, options?: ConfigSourceCallOptions): Promise<string | undefined>;
  /**
   * Every regular file path at or below `dir` (`""` = the whole project), sorted, directories
   * omitted. An absent `dir` gives `[]`.
   */
  listFiles(dir: string, options?: ConfigSourceCallOptions): Promise<string[]>;
  /** The commit the snapshot belongs to, or `undefined` when there is none (a plain directory). */
  findCommit(options?: ConfigSourceCallOptions): Promise<ConfigCommit | undefined>;
}

export interface WorkingTreeConfigSourceOptions {
  /**
   * The commit to expose as `.Commit` (e.g. HEAD when developing inside a git work tree).
   * @default none: `.Commit.Hash` renders as "" and `.Commit.Date` as the Unix epoch
   */
  commit?: ConfigCommit | undefined;
}

/**
 * A {@link ConfigSource} over the file system under `projectDir`: werf's development mode
 * (`--dev`), where uncommitted changes count. `.git` directories are never listed. Symbolic links
 * are followed when read, not when listing directories.
 */
export class WorkingTreeConfigSource implements ConfigSource {
  readonly description: string;
  readonly #projectDir: string;
  readonly #commit: ConfigCommit | undefined;

  constructor(projectDir: string, options: WorkingTreeConfigSourceOptions = {}) {
    this.#projectDir = projectDir;
    this.#commit = options.commit;
    this.description = `the working tree of ${projectDir}`;
  }

  async findFile(path: string, options: ConfigSourceCallOptions = {}): Promise<string | undefined> {
    options.signal?.throwIfAborted();
    try {
      return await readFile(join(this.#projectDir, path), { encoding: 'utf8', signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  async listFiles(dir: string, options: ConfigSourceCallOptions = {}): Promise<string[]> {
    const out: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      options.signal?.throwIfAborted();
      let entries;
      try {
        entries = await readdir(join(this.#projectDir, relative), { withFileTypes: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw error;
      }
      for (const entry of entries) {
        const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) {
          if (entry.name !== '.git') await walk(path);
        } else if (entry.isFile() || entry.isSymbolicLink()) {
          out.push(path);
        }
      }
    };
    await walk(trimSlashes(dir));
    return out.sort();
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that an abort is a rejection, as the port says
  async findCommit(options: ConfigSourceCallOptions = {}): Promise<ConfigCommit | undefined> {
    options.signal?.throwIfAborted();
    return this.#commit;
  }
}

function trimSlashes(dir: string): string {
  const trimmed = dir.replace(/^(?:\.\/)+/, '').replace(/^\/+|\/+$/g, '');
  return trimmed === '.' ? '' : trimmed;
}

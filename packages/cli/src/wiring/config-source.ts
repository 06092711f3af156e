/**
 * Where `config` commands read werf.yaml, its partials and `.Files` from: the git commit at HEAD
 * (werf's giterminism, the default inside a git work tree) or the working tree (`--dev`, or outside
 * git).
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { WorkingTreeConfigSource, type ConfigCommit, type ConfigSource, type ConfigSourceCallOptions } from '@strata/config';
import { GitError, NativeGitRepository, type GitRepository, type ObjectId } from '@strata/git';

/** The part of {@link GitRepository} a commit config source reads through. */
export type ConfigSourceGit = Pick<GitRepository, 'listTree' | 'findFile' | 'commitInfo'>;

export interface GitCommitConfigSourceOptions {
  /** The commit whose files are read. */
  commit: ObjectId;
  /** The project directory relative to the repository root, `/`-separated. @default "" (the root) */
  projectPath?: string | undefined;
}

/**
 * A {@link ConfigSource} over one commit: files are read from the commit's tree (uncommitted
 * changes do not count), `.Commit` is that commit. The tree under the project is listed at most
 * once per source. Symbolic links and submodules are not files here. The committer's time zone is
 * not known from the repository port: `.Commit.Date.Human` is printed in UTC.
 */
export class GitCommitConfigSource implements ConfigSource {
  readonly description: string;
  readonly #git: ConfigSourceGit;
  readonly #commit: ObjectId;
  readonly #projectPath: string;
  #listing: Promise<string[]> | undefined;

  constructor(git: ConfigSourceGit, options: GitCommitConfigSourceOptions) {
    this.#git = git;
    this.#commit = options.commit;
    this.#projectPath = (options.projectPath ?? '').replace(/^\/+|\/+$/g, '');
    this.description = `commit ${options.commit.slice(0, 12)}`;
  }

  async findFile(file: string, options: ConfigSourceCallOptions = {}): Promise<string | undefined> {
    options.signal?.throwIfAborted();
    const repoPath = this.#toRepoPath(file);
    if (repoPath === undefined) return undefined;
    const bytes = await this.#git.findFile(this.#commit, repoPath, { signal: options.signal });
    return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  async listFiles(dir: string, options: ConfigSourceCallOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    this.#listing ??= this.#listAll(options.signal);
    const listing = this.#listing;
    listing.catch(() => {
      if (this.#listing === listing) this.#listing = undefined; // a failed or aborted listing is retried
    });
    const prefix = path.posix.normalize(dir === '' ? '.' : dir).replace(/^\.\/?$/, '').replace(/\/+$/, '');
    const all = await listing;
    return prefix === '' ? all : all.filter((file) => file.startsWith(`${prefix}/`));
  }

  async findCommit(options: ConfigSourceCallOptions = {}): Promise<ConfigCommit> {
    options.signal?.throwIfAborted();
    const info = await this.#git.commitInfo(this.#commit, { signal: options.signal });
    return { hash: info.id, date: new Date(info.timeMs) };
  }

  async #listAll(signal: AbortSignal | undefined): Promise<string[]> {
    const entries = await this.#git.listTree({ commit: this.#commit, basePath: this.#projectPath, mode: 'files' }, { signal });
    const strip = this.#projectPath === '' ? 0 : this.#projectPath.length + 1;
    return entries
      .filter((entry) => entry.type === 'blob' && entry.mode !== '120000')
      .map((entry) => entry.path.slice(strip))
      .sort();
  }

  /** The repository path of a project path, or undefined when it leaves the repository. */
  #toRepoPath(file: string): string | undefined {
    const joined = path.posix.normalize(path.posix.join(this.#projectPath === '' ? '.' : this.#projectPath, file));
    if (joined === '..' || joined.startsWith('../') || path.posix.isAbsolute(joined)) return undefined;
    return joined;
  }
}

export interface OpenConfigSourceOptions {
  /** werf's development mode: read the working tree instead of the commit. @default false */
  dev?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** An opened source and what to release after loading. */
export interface OpenedConfigSource {
  source: ConfigSource;
  /** A one-line explanation to print when the source is not the one asked for (outside git). */
  notice?: string | undefined;
  /** Releases the git helper processes. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the config source for `projectDir`: the HEAD commit of the enclosing git repository, or its
 * working tree with `dev` (`.Commit` still HEAD). Outside a git work tree, or in a repository without
 * commits, it falls back to the working tree and says so in `notice`.
 */
export async function openConfigSource(projectDir: string, options: OpenConfigSourceOptions = {}): Promise<OpenedConfigSource> {
  const { signal } = options;
  let repository: NativeGitRepository;
  try {
    repository = await NativeGitRepository.open(projectDir, { signal });
  } catch (error) {
    if (error instanceof GitError && error.code === 'GIT_NOT_A_REPOSITORY') {
      return {
        source: new WorkingTreeConfigSource(projectDir),
        notice: `${projectDir} is not inside a git repository: reading the config from the working tree (no .Commit)`,
        close: () => Promise.resolve(),
      };
    }
    throw error;
  }
  try {
    const head = await repository.findCommit('HEAD', { signal });
    if (head === undefined) {
      await repository.close();
      return {
        source: new WorkingTreeConfigSource(projectDir),
        notice: `the git repository at ${repository.root} has no commit yet: reading the config from the working tree (no .Commit)`,
        close: () => Promise.resolve(),
      };
    }
    if (options.dev === true) {
      const info = await repository.commitInfo(head, { signal });
      await repository.close();
      return { source: new WorkingTreeConfigSource(projectDir, { commit: { hash: info.id, date: new Date(info.timeMs) } }), close: () => Promise.resolve() };
    }
    const realProject = await realPath(projectDir);
    const projectPath = path.relative(await realPath(repository.root), realProject).split(path.sep).join('/');
    return { source: new GitCommitConfigSource(repository, { commit: head, projectPath }), close: () => repository.close() };
  } catch (error) {
    await repository.close();
    throw error;
  }
}

/** Symlinks resolved (macOS `/tmp`, bind mounts), so the project path inside the repository is right. */
function realPath(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir));
}

/**
 * The `GitRepository` port: everything Strata's engine needs from git, and nothing more.
 *
 * Conventions shared by every method:
 * - Paths are repository-relative, `/`-separated, with no leading `/` (`""` is the root). Inputs such
 *   as `basePath` may be given as werf writes them (`/src`, `src/`, `.`); they are normalised once.
 *   A path or glob that climbs out of the repository (`../x`) fails with `GIT_PATH_OUTSIDE_REPOSITORY`.
 * - Commits are 40-hex object ids. Methods that take a `commit` accept a full id only; use
 *   {@link GitRepository.getCommit} to turn a ref (`HEAD`, a branch, a tag, a short id) into one.
 * - Every method is read-only on the repository (an adapter may write caches such as a commit-graph
 *   file under `.git`, which never changes what git reports), idempotent, and safe to call
 *   concurrently; adapters serialise access to long-lived helper processes internally.
 * - Every I/O method accepts `{ signal }`; an aborted call rejects with the signal's reason.
 * - A miss is a value (`find*` → `undefined`, `isAncestor` → `false`); `get*` throws a {@link GitError}.
 * - An adapter that cannot do an operation well declines it with `GIT_UNSUPPORTED_OPERATION` (never a
 *   silently slower or different answer).
 */
import type { Readable } from 'node:stream';
import { StrataError, type StrataErrorOptions } from '@strata/errors';

/** A full 40-hex git object id (SHA-1 repositories; SHA-256 repositories are not supported). */
export type ObjectId = string;

/** Options accepted by every I/O method. */
export interface GitCallOptions {
  signal?: AbortSignal | undefined;
}

/** Metadata of one commit. */
export interface CommitInfo {
  id: ObjectId;
  /** Parent ids in git's order (first parent first); empty for a root commit. */
  parents: readonly ObjectId[];
  /** Committer time in epoch milliseconds (git stores whole seconds). */
  timeMs: number;
  /** Committer time as an ISO-8601 UTC string (`2024-01-02T03:04:05.000Z`). */
  timeIso: string;
  /** Author time in epoch milliseconds. */
  authorTimeMs: number;
}

/** `blob` (file or symlink), `tree` (directory) or `commit` (submodule gitlink). */
export type TreeEntryType = 'blob' | 'tree' | 'commit';

/**
 * Git's file modes as `git ls-tree` prints them: `100644` file, `100755` executable,
 * `120000` symlink, `040000` directory, `160000` submodule.
 */
export type GitFileMode = '100644' | '100755' | '120000' | '040000' | '160000';

/** One entry of a tree listing. */
export interface TreeEntry {
  /** Repository-relative path (`src/app/main.go`). */
  path: string;
  mode: GitFileMode;
  type: TreeEntryType;
  objectId: ObjectId;
}

/**
 * Which part of a tree an operation looks at: werf's git-mapping path matcher.
 *
 * - `basePath` (werf's `add`): only paths at or below it are considered; globs are relative to it.
 * - `includePaths`: when non-empty, a path is kept only if some pattern matches it.
 * - `excludePaths`: a path matched by some pattern is dropped (exclude wins over include).
 *
 * A pattern is a doublestar glob (`*` within a segment, `**` across segments, `?`, `[…]`, `{a,b}`),
 * matched against the path relative to `basePath`. A pattern that matches a directory matches its whole
 * subtree; trailing `/`, `/*` and `/**` are equivalent to naming the directory (werf tries the glob as
 * is, with trailing `*`/`/` trimmed, and trimmed + `/**\/*`). `.` and `**` match everything.
 */
export interface PathFilter {
  /** @default "" (the repository root) */
  basePath?: string | undefined;
  /** @default [] (everything under `basePath`) */
  includePaths?: readonly string[] | undefined;
  /** @default [] (nothing excluded) */
  excludePaths?: readonly string[] | undefined;
}

/** Request for {@link GitRepository.lsTreeChecksum}. */
export interface LsTreeChecksumRequest extends PathFilter {
  commit: ObjectId;
  /**
   * One extra include glob relative to `basePath` (a single `stageDependencies` glob, or a Dockerfile
   * `COPY` source relative to the context). Applied on top of `includePaths`/`excludePaths`.
   */
  glob?: string | undefined;
  /**
   * `.dockerignore` patterns (Docker/moby syntax: `!` re-includes, `**`, leading `/` ignored),
   * relative to `basePath` (the build context). Applied on top of the other filters.
   * @default [] (nothing ignored)
   */
  dockerignore?: readonly string[] | undefined;
}

/** Request for {@link GitRepository.stageDependenciesChecksum}. */
export interface StageDependenciesRequest extends PathFilter {
  commit: ObjectId;
  /** The `stageDependencies.<stage>` globs of one mapping, in config order. */
  globs: readonly string[];
}

/** Result of {@link GitRepository.stageDependenciesChecksum}. */
export interface StageDependenciesChecksum {
  /**
   * Running SHA-256 hex over the non-empty per-glob checksums, in order. `""` only when `globs` is
   * empty; when globs are given but none matches it is the SHA-256 of nothing (`e3b0c442…`), as in werf.
   */
  checksum: string;
  /** Per glob, in config order: its ls-tree checksum (`""` when it matched nothing: werf warns). */
  globs: readonly { glob: string; checksum: string }[];
}

/** Request for {@link GitRepository.listTree}. */
export interface ListTreeRequest extends PathFilter {
  commit: ObjectId;
  /**
   * `files` (default): every matched blob/gitlink, recursively, directories omitted.
   * `lazy`: werf's lazy walk: a wholly matched directory is one `tree` entry, its content not listed.
   * @default "files"
   */
  mode?: 'files' | 'lazy' | undefined;
}

/** How a path changed between two commits (renames are reported as delete + add). */
export type ChangeStatus = 'added' | 'deleted' | 'modified' | 'typeChanged';

export interface ChangedPath {
  /** Repository-relative path. */
  path: string;
  status: ChangeStatus;
  /** Mode before (absent for `added`). */
  oldMode?: GitFileMode | undefined;
  /** Mode after (absent for `deleted`). */
  newMode?: GitFileMode | undefined;
}

/** Request for {@link GitRepository.changedPaths}, {@link GitRepository.patch} and {@link GitRepository.patchSize}. */
export interface DiffRequest extends PathFilter {
  /** The older commit. */
  from: ObjectId;
  /** The newer commit. */
  to: ObjectId;
}

export interface PatchRequest extends DiffRequest {
  /**
   * `standard`: `git diff --binary --full-index` (3 lines of context), the patch applied on top of an
   * image (gitCache, gitLatestPatch).
   * `fullContext`: every line of every changed file as context (plus binary data), the variant werf
   * measures for the `gitCache` 1 MiB rule.
   * @default "standard"
   */
  variant?: 'standard' | 'fullContext' | undefined;
  /**
   * Paths in the patch are relative to `basePath` (as `git diff --relative`), so the patch applies at
   * the mapping's `to`. When false they are repository-relative.
   * @default true
   */
  relativeToBase?: boolean | undefined;
}

export interface GitPatch {
  /** The raw patch bytes (binary hunks are base85 text; file content may be in any encoding). */
  bytes: Uint8Array;
  /** Size of {@link GitPatch.bytes} in bytes. */
  sizeBytes: number;
  /** The changed paths the patch covers, in patch order. */
  paths: readonly ChangedPath[];
}

/** Request for {@link GitRepository.archive}. */
export interface ArchiveRequest extends PathFilter {
  commit: ObjectId;
  /**
   * Prefix prepended to every path in the tar (the mapping's `to`, e.g. `app/`; leading `/` dropped).
   * Paths are relative to `basePath` before the prefix is applied.
   * @default "" (no prefix)
   */
  prefix?: string | undefined;
  /** Owner of every entry: a user name or a numeric uid. @default uid 0, no name */
  owner?: string | number | undefined;
  /** Group of every entry: a group name or a numeric gid. @default gid 0, no name */
  group?: string | number | undefined;
}

/** Pair for {@link GitRepository.isAncestorMany}. */
export interface AncestryQuery {
  /** The commit that may be an ancestor (e.g. a stored stage's commit). */
  ancestor: ObjectId;
  /** The commit it must be reachable from (e.g. the current commit). */
  descendant: ObjectId;
}

/** What an adapter can do; the engine may consult it to explain a decline early. */
export interface GitCapabilities {
  patches: boolean;
  archives: boolean;
}

/**
 * Read access to one git repository. See the module comment for shared conventions.
 */
export interface GitRepository {
  /** Absolute path of the work tree root (`git rev-parse --show-toplevel`), or of a bare repo's git dir. */
  readonly root: string;
  readonly capabilities: GitCapabilities;

  /** The commit `HEAD` points at. Throws `GIT_UNKNOWN_REF` in a repository without commits. */
  headCommit(options?: GitCallOptions): Promise<ObjectId>;

  /**
   * Resolves a ref (`HEAD`, branch, tag, full or abbreviated id, `HEAD~2`) to a commit id; annotated
   * tags are peeled. Returns `undefined` when the ref does not name a commit.
   */
  findCommit(ref: string, options?: GitCallOptions): Promise<ObjectId | undefined>;

  /** Like {@link findCommit} but throws `GIT_UNKNOWN_REF` on a miss. */
  getCommit(ref: string, options?: GitCallOptions): Promise<ObjectId>;

  /** Metadata of a commit. Throws `GIT_UNKNOWN_REF` when it does not exist. */
  commitInfo(commit: ObjectId, options?: GitCallOptions): Promise<CommitInfo>;

  /**
   * Tree entries at `commit` under `basePath`, filtered, sorted by full path (bytewise, as werf sorts).
   * Entry paths are repository-relative. An empty match is `[]`; a `basePath` that does not exist is
   * `[]` too. Throws `GIT_UNKNOWN_REF` for an unknown commit.
   */
  listTree(request: ListTreeRequest, options?: GitCallOptions): Promise<TreeEntry[]>;

  /**
   * werf's ls-tree checksum (SPEC §2.2, Appendix A): the lazy listing (wholly matched directories
   * contribute their tree id and are not descended) sorted by full path; for each entry its object id
   * and its mode (go-git's `%07o` form, as werf writes it) are fed into one SHA-256, returned as hex.
   * Returns `""` when nothing matches.
   */
  lsTreeChecksum(request: LsTreeChecksumRequest, options?: GitCallOptions): Promise<string>;

  /**
   * The `stageDependencies` checksum of one mapping for one stage: for each glob in order, the
   * {@link lsTreeChecksum} with that glob; the non-empty ones are fed in order into one SHA-256
   * (see {@link StageDependenciesChecksum.checksum} for the empty cases).
   */
  stageDependenciesChecksum(request: StageDependenciesRequest, options?: GitCallOptions): Promise<StageDependenciesChecksum>;

  /**
   * True when `ancestor` is reachable from `descendant` through parent links, or equal to it.
   * An unknown commit (either side) gives `false`, not an error. Throws `GIT_SHALLOW_REPOSITORY` when
   * the answer depends on history a shallow clone does not have.
   */
  isAncestor(ancestor: ObjectId, descendant: ObjectId, options?: GitCallOptions): Promise<boolean>;

  /**
   * {@link isAncestor} for many pairs at once; answers are in the order of `queries`. Adapters answer
   * the whole batch from one in-memory commit graph, so prefer this over a loop.
   */
  isAncestorMany(queries: readonly AncestryQuery[], options?: GitCallOptions): Promise<boolean[]>;

  /**
   * Paths changed between `from` and `to` (`git diff --no-renames`), limited by the filter, sorted by
   * path. Directories are never listed; a type change (file ↔ symlink) is `typeChanged`.
   */
  changedPaths(request: DiffRequest, options?: GitCallOptions): Promise<ChangedPath[]>;

  /**
   * The patch from `from` to `to` limited by the filter (`git diff --binary --full-index --no-renames`).
   * Empty bytes when nothing under the filter changed. May decline with `GIT_UNSUPPORTED_OPERATION`.
   */
  patch(request: PatchRequest, options?: GitCallOptions): Promise<GitPatch>;

  /** Size in bytes of {@link patch} for the same request, without keeping the patch in memory. */
  patchSize(request: PatchRequest, options?: GitCallOptions): Promise<number>;

  /**
   * A tar (ustar/pax) stream of the filtered subtree at `commit`: directories (mode 0755), files with
   * 0644 or 0755 from the git mode, symlinks with their target, gitlinks as empty directories; every
   * entry's mtime is the commit's committer time; entries in tree order (parents before children).
   * Paths are relative to `basePath`, then prefixed with `prefix`. The stream errors with the
   * signal's reason on abort. Two adapters give byte-identical tars for the same request.
   */
  archive(request: ArchiveRequest, options?: GitCallOptions): Readable;

  /** Content of the blob at `path` in `commit`; `undefined` when the path is absent or not a blob. */
  findFile(commit: ObjectId, path: string, options?: GitCallOptions): Promise<Uint8Array | undefined>;

  /**
   * Content of a file in the work tree (not the commit): only for `contextAddFiles`. `undefined`
   * when it does not exist or is not a regular file. Throws `GIT_PATH_OUTSIDE_REPOSITORY` on escape.
   */
  findWorkingTreeFile(path: string, options?: GitCallOptions): Promise<Uint8Array | undefined>;

  /** Releases helper processes and caches. Idempotent; later calls may restart helpers lazily. */
  close(): Promise<void>;
}

/** Codes of {@link GitError}. */
export type GitErrorCode =
  | 'GIT_NOT_A_REPOSITORY'
  | 'GIT_SHALLOW_REPOSITORY'
  | 'GIT_UNKNOWN_REF'
  | 'GIT_PATH_OUTSIDE_REPOSITORY'
  | 'GIT_INVALID_GLOB'
  | 'GIT_BINARY_MISSING'
  | 'GIT_UNSUPPORTED_OPERATION'
  | 'GIT_COMMAND_FAILED';

/** Offending input of a {@link GitError}. */
export interface GitErrorData {
  repository?: string;
  ref?: string;
  path?: string;
  operation?: string;
  command?: readonly string[];
  stderr?: string;
}

/** Every failure of a {@link GitRepository}. Match on `code`. */
export class GitError extends StrataError<GitErrorCode, GitErrorData> {
  constructor(code: GitErrorCode, message: string, options: StrataErrorOptions<GitErrorData> = {}) {
    super(code, message, options);
  }
}

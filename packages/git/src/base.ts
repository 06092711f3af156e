/**
 * Behaviour shared by both adapters, written once over three primitives (a tree source, blob
 * reads, commit metadata) so that checksums, listings and tars are identical by construction.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { abortReason } from '@strata/errors';
import { allOf, createPathMatcher, DockerignoreMatcher, normalizeRepoPath, relativeTo, type PathMatcher } from './paths.js';
import type {
  AncestryQuery,
  ArchiveRequest,
  ChangedPath,
  CommitInfo,
  DiffRequest,
  GitCallOptions,
  GitCapabilities,
  GitPatch,
  GitRepository,
  ListTreeRequest,
  LsTreeChecksumRequest,
  ObjectId,
  PatchRequest,
  PathFilter,
  StageDependenciesChecksum,
  StageDependenciesRequest,
  TreeEntry,
} from './repository.js';
import { GitError } from './repository.js';
import type { FileWithContent } from './stream.js';
import { ArchiveFallback, TarWriter, type TarCommon } from './tar.js';
import { lazyWalk, lsTreeChecksumOf, sortByPath, typeOfMode, normalizeMode, type TreeSource } from './walk.js';

/** Parses a raw git tree object (`<mode> <name>\0<20-byte id>`…) into entries under `dir`. */
export function parseRawTree(content: Buffer, dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(32, i);
    const nul = content.indexOf(0, sp + 1);
    const mode = normalizeMode(content.toString('latin1', i, sp));
    const name = content.toString('utf8', sp + 1, nul);
    const objectId = content.toString('hex', nul + 1, nul + 21);
    out.push({ path: dir === '' ? name : `${dir}/${name}`, mode, type: typeOfMode(mode), objectId });
    i = nul + 21;
  }
  return out;
}

export interface ResolvedFilter {
  basePath: string;
  matcher: PathMatcher;
}

/** werf's git-mapping matcher for a {@link PathFilter} plus the ls-tree scope matcher. */
export function resolveFilter(filter: PathFilter, extra: PathMatcher[] = []): ResolvedFilter {
  const basePath = normalizeRepoPath(filter.basePath ?? '', 'base path');
  const matcher = allOf(
    createPathMatcher({ basePath }),
    createPathMatcher({ basePath, includeGlobs: filter.includePaths, excludeGlobs: filter.excludePaths }),
    ...extra,
  );
  return { basePath, matcher };
}

const FULL_ID = /^[0-9a-f]{40}$/;

export function assertCommitId(commit: string): void {
  if (!FULL_ID.test(commit)) {
    throw new GitError('GIT_UNKNOWN_REF', `"${commit}" is not a full commit id`, {
      hint: 'Resolve refs with getCommit() first; methods taking a commit need its 40-hex id.',
      data: { ref: commit },
    });
  }
}

export function unknownCommit(ref: string, repository: string): GitError {
  return new GitError('GIT_UNKNOWN_REF', `unknown revision "${ref}" in ${repository}`, {
    hint: 'Check the branch, tag or commit name; fetch it if it lives on a remote (git fetch origin <ref>).',
    data: { ref, repository },
  });
}

export function shallowError(repository: string, operation: string): GitError {
  return new GitError('GIT_SHALLOW_REPOSITORY', `${repository} is a shallow clone and ${operation} needs history it does not have`, {
    hint: 'Fetch the full history: `git fetch --unshallow` (in CI, set the clone depth to 0, e.g. GIT_DEPTH=0 or fetch-depth: 0).',
    data: { repository, operation },
  });
}

export function unsupported(adapter: string, operation: string, why: string): GitError {
  return new GitError('GIT_UNSUPPORTED_OPERATION', `${adapter} does not support ${operation}: ${why}`, {
    hint: 'Use NativeGitRepository (the git CLI) for this operation.',
    data: { operation },
  });
}

export abstract class BaseGitRepository implements GitRepository {
  abstract readonly root: string;
  abstract readonly capabilities: GitCapabilities;

  abstract headCommit(options?: GitCallOptions): Promise<ObjectId>;
  abstract findCommit(ref: string, options?: GitCallOptions): Promise<ObjectId | undefined>;
  abstract commitInfo(commit: ObjectId, options?: GitCallOptions): Promise<CommitInfo>;
  abstract isAncestorMany(queries: readonly AncestryQuery[], options?: GitCallOptions): Promise<boolean[]>;
  abstract changedPaths(request: DiffRequest, options?: GitCallOptions): Promise<ChangedPath[]>;
  abstract patch(request: PatchRequest, options?: GitCallOptions): Promise<GitPatch>;
  abstract patchSize(request: PatchRequest, options?: GitCallOptions): Promise<number>;
  abstract findFile(commit: ObjectId, path: string, options?: GitCallOptions): Promise<Uint8Array | undefined>;
  abstract findWorkingTreeFile(path: string, options?: GitCallOptions): Promise<Uint8Array | undefined>;
  abstract close(): Promise<void>;

  /** Tree access for one commit; throws `GIT_UNKNOWN_REF` when the commit does not exist. */
  protected abstract treeSource(commit: ObjectId, signal?: AbortSignal): Promise<TreeSource>;
  /** Blob contents in the order of `oids`. */
  protected abstract readBlobs(oids: readonly ObjectId[], signal?: AbortSignal): AsyncIterable<Buffer[]>;

  /**
   * Every non-tree entry below the directory `basePath` with its content, in tree order: what the
   * walk and blob reads give when nothing is filtered. Adapters with a faster way override it;
   * `undefined` means "walk".
   */
  protected streamAllFiles(_commit: ObjectId, _basePath: string, _signal?: AbortSignal): AsyncIterable<FileWithContent[]> | undefined {
    return undefined;
  }

  /**
   * The finished tar of a whole tree (every entry below it, named `prefix/<path>`), byte for
   * byte what the generic route writes, for adapters with a faster way to make it. The iterable
   * throws `ArchiveFallback` before yielding anything when it cannot; `undefined` means "never".
   */
  protected directTar(_treeId: ObjectId, _prefix: string, _common: TarCommon, _signal?: AbortSignal): AsyncIterable<Buffer[]> | undefined {
    return undefined;
  }

  async getCommit(ref: string, options?: GitCallOptions): Promise<ObjectId> {
    const id = await this.findCommit(ref, options);
    if (id === undefined) throw unknownCommit(ref, this.root);
    return id;
  }

  async isAncestor(ancestor: ObjectId, descendant: ObjectId, options?: GitCallOptions): Promise<boolean> {
    const [answer] = await this.isAncestorMany([{ ancestor, descendant }], options);
    return answer ?? false;
  }

  async listTree(request: ListTreeRequest, options: GitCallOptions = {}): Promise<TreeEntry[]> {
    assertCommitId(request.commit);
    const { basePath, matcher } = resolveFilter(request);
    const source = await this.treeSource(request.commit, options.signal);
    const entries = await lazyWalk(source, basePath, matcher, request.mode !== 'lazy', options.signal);
    return sortByPath(entries);
  }

  async lsTreeChecksum(request: LsTreeChecksumRequest, options: GitCallOptions = {}): Promise<string> {
    assertCommitId(request.commit);
    const base = normalizeRepoPath(request.basePath ?? '', 'base path');
    const extra: PathMatcher[] = [];
    if (request.glob !== undefined) extra.push(createPathMatcher({ basePath: base, includeGlobs: [request.glob] }));
    if (request.dockerignore && request.dockerignore.length > 0) {
      extra.push(createPathMatcher({ basePath: base, extra: [new DockerignoreMatcher(request.dockerignore)] }));
    }
    const { basePath, matcher } = resolveFilter(request, extra);
    const source = await this.treeSource(request.commit, options.signal);
    return lsTreeChecksumOf(await lazyWalk(source, basePath, matcher, false, options.signal));
  }

  async stageDependenciesChecksum(request: StageDependenciesRequest, options: GitCallOptions = {}): Promise<StageDependenciesChecksum> {
    if (request.globs.length === 0) return { checksum: '', globs: [] };
    const hash = createHash('sha256');
    const globs: { glob: string; checksum: string }[] = [];
    for (const glob of request.globs) {
      const checksum = await this.lsTreeChecksum({ ...request, glob }, options);
      if (checksum !== '') hash.update(checksum);
      globs.push({ glob, checksum });
    }
    return { checksum: hash.digest('hex'), globs };
  }

  archive(request: ArchiveRequest, options: GitCallOptions = {}): Readable {
    // Pull-based: blobs are read only as fast as the consumer takes chunks.
    return readableFromBatches(this.archiveChunks(request, options.signal));
  }

  private async *archiveChunks(request: ArchiveRequest, signal?: AbortSignal): AsyncGenerator<Buffer[]> {
    assertCommitId(request.commit);
    const info = await this.commitInfo(request.commit, { signal });
    const { basePath, matcher } = resolveFilter(request);
    const source = await this.treeSource(request.commit, signal);
    const baseEntry = await source.entryAt(basePath);
    const owner = ownerFields(request.owner);
    const group = ownerFields(request.group);
    const common: TarCommon = { mtimeMs: info.timeMs, uid: owner.id, uname: owner.name, gid: group.id, gname: group.name };
    const tar = new TarWriter(common);
    if (baseEntry === undefined) {
      yield tar.finish();
      return;
    }
    const prefix = normalizeRepoPath(request.prefix ?? '', 'archive prefix');
    const baseIsFile = baseEntry.type !== 'tree';
    const unfiltered = (request.includePaths?.length ?? 0) === 0 && (request.excludePaths?.length ?? 0) === 0;
    const direct = unfiltered && !baseIsFile ? this.directTar(baseEntry.objectId, prefix, common, signal) : undefined;
    if (direct !== undefined) {
      try {
        yield* direct;
        return;
      } catch (error) {
        if (!(error instanceof ArchiveFallback)) throw error;
      }
    }
    const nameOf = (rel: string): string => (prefix === '' ? rel : `${prefix}/${rel}`);

    let lastDir = '';
    const emitted = new Set<string>();
    const ensureDirs = (rel: string): void => {
      const slash = rel.lastIndexOf('/');
      const parent = slash < 0 ? '' : rel.slice(0, slash);
      if (parent === lastDir || parent === '') return;
      lastDir = parent;
      let i = rel.indexOf('/');
      while (i >= 0) {
        const dir = rel.slice(0, i);
        if (!emitted.has(dir)) {
          emitted.add(dir);
          tar.add('directory', `${nameOf(dir)}/`, 0o755);
        }
        i = rel.indexOf('/', i + 1);
      }
    };
    const addEntry = (entry: TreeEntry, content: Buffer | undefined): void => {
      let name: string;
      if (baseIsFile) {
        name = prefix !== '' ? prefix : entry.path.slice(entry.path.lastIndexOf('/') + 1);
      } else {
        const rel = relativeTo(entry.path, basePath);
        ensureDirs(rel);
        name = nameOf(rel);
      }
      if (entry.type === 'commit') {
        emitted.add(relativeTo(entry.path, basePath));
        tar.add('directory', `${name}/`, 0o755);
      } else if (entry.mode === '120000') {
        tar.add('symlink', name, 0o777, undefined, content!.toString('utf8'));
      } else {
        tar.add('file', name, entry.mode === '100755' ? 0o755 : 0o644, content);
      }
    };

    const stream = unfiltered && !baseIsFile ? this.streamAllFiles(request.commit, basePath, signal) : undefined;
    if (stream !== undefined) {
      // Nothing filtered: the walk would yield every file below the base, so list and read in one go.
      for await (const batch of stream) {
        for (const f of batch) addEntry(f.entry, f.content);
        const chunks = tar.take();
        if (chunks.length > 0) yield chunks;
      }
      yield tar.finish();
      return;
    }

    const files = await lazyWalk(source, basePath, matcher, true, signal);
    const blobs = files.filter((e) => e.type === 'blob').map((e) => e.objectId);
    const iterator = this.readBlobs(blobs, signal)[Symbol.asyncIterator]();
    let batch: Buffer[] = [];
    let at = 0;
    for (const entry of files) {
      let content: Buffer | undefined;
      if (entry.type === 'blob') {
        while (at >= batch.length) {
          const chunks = tar.take();
          if (chunks.length > 0) yield chunks;
          if (signal?.aborted) throw abortReason(signal);
          const r = await iterator.next();
          if (r.done) throw new GitError('GIT_COMMAND_FAILED', `blob ${entry.objectId} of ${entry.path} could not be read`);
          batch = r.value;
          at = 0;
        }
        content = batch[at++]!;
      }
      addEntry(entry, content);
    }
    yield tar.finish();
  }

  /** Shared filtering for diff results: werf's mapping matcher on each changed path. */
  protected filterChanges(changes: ChangedPath[], filter: PathFilter): ChangedPath[] {
    const { matcher } = resolveFilter(filter);
    return changes.filter((c) => matcher.isPathMatched(c.path));
  }
}

/**
 * A byte stream over batches of chunks, one chunk per `read` (so a reader gets the chunks as they
 * are, not concatenated): chunks of a batch at hand are pushed synchronously, and the source is
 * pulled (asynchronously) only when a batch is used up.
 */
function readableFromBatches(source: AsyncIterator<Buffer[]>): Readable {
  let batch: Buffer[] = [];
  let at = 0;
  let pulling = false;
  const readable = new Readable({
    // Nothing is read ahead beyond one chunk: batches are already buffered by the source.
    highWaterMark: 1,
    read() {
      if (at < batch.length) {
        readable.push(batch[at++]);
        return;
      }
      if (pulling) return;
      pulling = true;
      const pull = async (): Promise<void> => {
        for (;;) {
          const r = await source.next();
          if (r.done) {
            pulling = false;
            readable.push(null);
            return;
          }
          batch = r.value;
          at = 0;
          if (batch.length > 0) {
            // Cleared before the push: a push may synchronously ask for the next chunk.
            pulling = false;
            readable.push(batch[at++]);
            return;
          }
        }
      };
      pull().catch((error: unknown) => readable.destroy(error as Error));
    },
    destroy(error, callback) {
      // Ends the source (its `finally` stops child processes) once a pending pull settles.
      void (source.return?.() ?? Promise.resolve()).then(
        () => callback(error),
        (e: unknown) => callback((error ?? e) as Error | null),
      );
    },
  });
  return readable;
}

function ownerFields(value: string | number | undefined): { id: number; name: string } {
  if (value === undefined) return { id: 0, name: '' };
  if (typeof value === 'number' || /^\d+$/.test(value)) return { id: Number(value), name: '' };
  return { id: 0, name: value };
}

/**
 * `NativeGitRepository`: the default adapter, driving the `git` CLI.
 *
 * - Objects (commits, trees, blobs) are read through one long-lived `git cat-file --batch`.
 * - Big tree walks switch to one `git ls-tree -r -t -z` of the walked subtree instead of reading
 *   trees one by one; listings are cached by tree id (content-addressed, so never stale).
 * - Ancestry is answered from an in-memory commit graph loaded once with `git rev-list --parents`
 *   (reloaded when a question names a commit it has not seen); `git commit-graph write` is run
 *   once for large histories so later loads are fast.
 * - Diffs, patches: `git diff-tree` / `git diff` with werf's options.
 */
import { existsSync } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { abortReason } from '@strata/errors';
import { assertCommitId, BaseGitRepository, parseRawTree, resolveFilter, shallowError, unknownCommit } from './base.js';
import { CommitGraph } from './graph.js';
import { normalizeRepoPath } from './paths.js';
import { spawn } from 'node:child_process';
import { binaryMissing, CatFileBatch, gitEnv, runGit } from './proc.js';
import { streamTreeFiles, type FileWithContent } from './stream.js';
import { tarFromGitArchive } from './archive-source.js';
import { ArchiveFallback, type TarCommon } from './tar.js';
import type {
  AncestryQuery,
  ChangedPath,
  ChangeStatus,
  CommitInfo,
  DiffRequest,
  GitCallOptions,
  GitCapabilities,
  GitFileMode,
  GitPatch,
  ObjectId,
  PatchRequest,
  TreeEntry,
} from './repository.js';
import { GitError } from './repository.js';
import { normalizeMode, typeOfMode, comparePaths, type TreeSource } from './walk.js';

export interface NativeGitRepositoryOptions {
  /** The git executable. @default "git" */
  gitBinary?: string | undefined;
  /**
   * Run `git commit-graph write --reachable` once when the history has more than this many commits
   * and the repository has no commit-graph file yet (makes later graph loads faster).
   * `false` never writes. @default 5000
   */
  writeCommitGraphAbove?: number | false | undefined;
  /** Tree reads one walk does one by one before it lists the whole subtree at once. @default 32 */
  bulkListThreshold?: number | undefined;
}

interface OpenOptions extends NativeGitRepositoryOptions, GitCallOptions {}

/** A child of a tree without its location (a tree id can appear at many paths). */
interface RawChild {
  name: string;
  mode: GitFileMode;
  objectId: string;
}

const MAX_CACHED_ENTRIES = 2_000_000;


export class NativeGitRepository extends BaseGitRepository {
  readonly root: string;
  readonly gitDir: string;
  readonly capabilities: GitCapabilities = { patches: true, archives: true };
  private readonly gitBinary: string;
  private readonly shallow: boolean;
  private readonly writeCommitGraphAbove: number | false;
  private readonly bulkListThreshold: number;
  private readonly batch: CatFileBatch;
  private readonly trees = new Map<string, RawChild[]>();
  private cachedEntries = 0;
  private graph: Promise<CommitGraph> | undefined;
  private commitGraphWrite: Promise<unknown> | undefined;

  /** Prefer {@link NativeGitRepository.open}, which finds and checks the repository. No I/O here. */
  constructor(root: string, gitDir: string, shallow: boolean, options: NativeGitRepositoryOptions = {}) {
    super();
    this.root = root;
    this.gitDir = gitDir;
    this.shallow = shallow;
    this.gitBinary = options.gitBinary ?? 'git';
    this.writeCommitGraphAbove = options.writeCommitGraphAbove ?? 5000;
    this.bulkListThreshold = options.bulkListThreshold ?? 32;
    this.batch = new CatFileBatch(root, this.gitBinary);
  }

  /**
   * Opens the repository containing `dir`. Throws `GIT_NOT_A_REPOSITORY` when there is none and
   * `GIT_BINARY_MISSING` when git cannot be run.
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<NativeGitRepository> {
    const gitBinary = options.gitBinary ?? 'git';
    const abs = path.resolve(dir);
    const notARepo = (cause?: unknown): GitError =>
      new GitError('GIT_NOT_A_REPOSITORY', `${abs} is not inside a git repository`, {
        hint: 'Run Strata from a git work tree (git init && git add -A && git commit), or pass the project directory.',
        data: { repository: abs },
        cause,
      });
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw notARepo();
    // One process in the common case (a work tree); `--show-toplevel` fails in a bare repository, which
    // is then asked without it.
    const ask = async (args: readonly string[]): Promise<string[]> => {
      const r = await runGit(['rev-parse', '--is-bare-repository', '--absolute-git-dir', '--is-shallow-repository', ...args], {
        cwd: abs,
        gitBinary,
        signal: options.signal,
      });
      return r.stdout.toString('utf8').trim().split('\n');
    };
    let info: string[];
    try {
      info = await ask(['--show-toplevel']);
    } catch (first) {
      if (!(first instanceof GitError && first.code === 'GIT_COMMAND_FAILED')) throw first;
      try {
        info = await ask([]);
      } catch (error) {
        if (error instanceof GitError && error.code === 'GIT_COMMAND_FAILED') throw notARepo(error);
        throw error;
      }
    }
    const [bare, gitDir, shallow, topLevel] = info;
    // Not bare, yet no work tree: `dir` lies inside a work tree's .git directory.
    if (bare !== 'true' && topLevel === undefined) throw notARepo();
    const root = bare === 'true' ? gitDir! : topLevel!;
    return new NativeGitRepository(root, gitDir!, shallow === 'true', options);
  }

  private git(args: readonly string[], signal?: AbortSignal, okCodes?: readonly number[]) {
    return runGit(args, { cwd: this.root, gitBinary: this.gitBinary, signal, okCodes });
  }

  private async read(spec: string, signal?: AbortSignal) {
    if (signal?.aborted) throw abortReason(signal);
    return this.batch.read(spec);
  }

  async headCommit(options: GitCallOptions = {}): Promise<ObjectId> {
    const id = await this.findCommit('HEAD', options);
    if (id === undefined) throw unknownCommit('HEAD', this.root);
    return id;
  }

  async findCommit(ref: string, options: GitCallOptions = {}): Promise<ObjectId | undefined> {
    if (ref === '' || /\s/.test(ref) || ref.startsWith('-')) return undefined;
    const obj = await this.read(`${ref}^{commit}`, options.signal);
    return obj?.type === 'commit' ? obj.oid : undefined;
  }

  async commitInfo(commit: ObjectId, options: GitCallOptions = {}): Promise<CommitInfo> {
    const obj = await this.read(`${commit}^{commit}`, options.signal);
    if (obj?.type !== 'commit') throw unknownCommit(commit, this.root);
    return parseCommit(obj.oid, obj.content);
  }

  private async rootTree(commit: ObjectId, signal?: AbortSignal): Promise<string> {
    const obj = await this.read(commit, signal);
    if (obj?.type !== 'commit') throw unknownCommit(commit, this.root);
    return obj.content.toString('latin1', 5, 45);
  }

  private remember(treeId: string, children: RawChild[]): void {
    if (this.cachedEntries + children.length > MAX_CACHED_ENTRIES) {
      this.trees.clear();
      this.cachedEntries = 0;
    }
    if (!this.trees.has(treeId)) {
      this.trees.set(treeId, children);
      this.cachedEntries += children.length;
    }
  }

  private async readTree(treeId: string, signal?: AbortSignal): Promise<RawChild[]> {
    const cached = this.trees.get(treeId);
    if (cached) return cached;
    const obj = await this.read(treeId, signal);
    if (obj?.type !== 'tree') throw new GitError('GIT_COMMAND_FAILED', `tree ${treeId} is missing from ${this.root}`, { data: { ref: treeId } });
    const children = parseRawTree(obj.content, '').map((e) => ({ name: e.path, mode: e.mode, objectId: e.objectId }));
    this.remember(treeId, children);
    return children;
  }

  /** Lists a whole subtree with one `ls-tree -r -t` and caches every tree in it. */
  private async bulkList(treeId: string, signal?: AbortSignal): Promise<void> {
    const { stdout } = await this.git(['ls-tree', '-r', '-t', '-z', treeId], signal);
    const byDir = new Map<string, RawChild[]>([['', []]]);
    const treeIds = new Map<string, string>([['', treeId]]);
    let i = 0;
    const n = stdout.length;
    while (i < n) {
      const tab = stdout.indexOf(9, i);
      const nul = stdout.indexOf(0, tab);
      // `<mode> SP <type> SP <oid> TAB <path>`; the oid is the 40 characters before the tab.
      const sp = stdout.indexOf(32, i);
      const mode = normalizeMode(stdout.toString('latin1', i, sp));
      const objectId = stdout.toString('latin1', tab - 40, tab);
      const full = stdout.toString('utf8', tab + 1, nul);
      const slash = full.lastIndexOf('/');
      const dir = slash < 0 ? '' : full.slice(0, slash);
      const name = slash < 0 ? full : full.slice(slash + 1);
      let list = byDir.get(dir);
      if (!list) byDir.set(dir, (list = []));
      list.push({ name, mode, objectId });
      if (mode === '040000') {
        treeIds.set(full, objectId);
        if (!byDir.has(full)) byDir.set(full, []);
      }
      i = nul + 1;
    }
    for (const [dir, children] of byDir) {
      const id = treeIds.get(dir);
      if (id !== undefined) this.remember(id, children);
    }
  }

  /**
   * Unfiltered archives are `git archive`'s own tar with rewritten headers (the floor itself)
   * when no gitattributes can alter its output; else `streamAllFiles` feeds the generic writer.
   */
  protected override async *directTar(treeId: ObjectId, prefix: string, common: TarCommon, signal?: AbortSignal): AsyncIterable<Buffer[]> {
    // Attributes in the tree are checked by `tarFromGitArchive`; the global and system ones are
    // switched off there; the repository's own cannot be.
    if (existsSync(path.join(this.gitDir, 'info', 'attributes'))) throw new ArchiveFallback('info/attributes applies');
    const readTree = async (id: string): Promise<Buffer> => {
      const obj = await this.read(id, signal);
      if (obj?.type !== 'tree') throw new GitError('GIT_COMMAND_FAILED', `tree ${id} is missing from ${this.root}`, { data: { ref: id } });
      return obj.content;
    };
    yield* tarFromGitArchive({ cwd: this.root, gitBinary: this.gitBinary, treeId, prefix, common, readTree, signal });
  }

  /** Unfiltered archives that `git archive` cannot make: `ls-tree` piped into `cat-file --batch`. */
  protected override streamAllFiles(commit: ObjectId, basePath: string, signal?: AbortSignal): AsyncIterable<FileWithContent[]> {
    return streamTreeFiles({ cwd: this.root, gitBinary: this.gitBinary, commit, basePath, signal });
  }

  protected async treeSource(commit: ObjectId, signal?: AbortSignal): Promise<TreeSource> {
    const rootId = await this.rootTree(commit, signal);
    let reads = 0;
    let scope: TreeEntry | undefined;
    let bulkDone = false;
    const toEntry = (dir: string, c: RawChild): TreeEntry => ({
      path: dir === '' ? c.name : `${dir}/${c.name}`,
      mode: c.mode,
      type: typeOfMode(c.mode),
      objectId: c.objectId,
    });
    return {
      entryAt: async (p) => {
        let entry: TreeEntry = { path: '', mode: '040000', type: 'tree', objectId: rootId };
        if (p !== '') {
          for (const part of p.split('/')) {
            if (entry.type !== 'tree') return undefined;
            const child = (await this.readTree(entry.objectId, signal)).find((c) => c.name === part);
            if (!child) return undefined;
            entry = toEntry(entry.path, child);
          }
        }
        scope = entry;
        return entry;
      },
      children: async (dir) => {
        if (!this.trees.has(dir.objectId)) {
          reads += 1;
          if (reads > this.bulkListThreshold && !bulkDone && scope?.type === 'tree') {
            bulkDone = true;
            await this.bulkList(scope.objectId, signal);
          }
        }
        return (await this.readTree(dir.objectId, signal)).map((c) => toEntry(dir.path, c));
      },
    };
  }

  /**
   * Streams blobs through a dedicated `git cat-file --batch` (the shared one serves small reads):
   * requests are written with backpressure and answers are sliced out of stdout without copies.
   */
  protected async *readBlobs(oids: readonly ObjectId[], signal?: AbortSignal): AsyncIterable<Buffer[]> {
    if (oids.length === 0) return;
    if (signal?.aborted) throw abortReason(signal);
    const child = spawn(this.gitBinary, ['cat-file', '--batch', '--buffer'], { cwd: this.root, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    let spawnError: Error | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? binaryMissing(this.gitBinary, e) : e;
    });
    child.stdin.on('error', () => undefined);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const writer = (async () => {
      const step = 2048;
      for (let i = 0; i < oids.length; i += step) {
        const ok = child.stdin.write(`${oids.slice(i, i + step).join('\n')}\n`);
        if (!ok) await new Promise<void>((resolve) => child.stdin.once('drain', resolve));
        if (child.stdin.destroyed) return;
      }
      child.stdin.end();
    })();
    // stdout is read eagerly (up to a high-water mark) so git never waits on a full pipe while
    // the consumer is busy; parsed blobs queue up in batches.
    const queue: Buffer[][] = [];
    let queuedBytes = 0;
    let finished = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    let leftover: Buffer | undefined;
    let need = -1;
    let size = 0;
    let parts: Buffer[] = [];
    child.stdout.on('data', (raw: Buffer) => {
      if (failure !== undefined) return;
      const chunk: Buffer = leftover ? Buffer.concat([leftover, raw]) : raw;
      leftover = undefined;
      const ready: Buffer[] = [];
      let i = 0;
      while (i < chunk.length) {
        if (need < 0) {
          const nl = chunk.indexOf(10, i);
          if (nl < 0) {
            leftover = chunk.subarray(i);
            break;
          }
          const sp = chunk.lastIndexOf(32, nl);
          const last = chunk.toString('latin1', sp + 1, nl);
          if (!/^\d+$/.test(last)) {
            failure = new GitError('GIT_COMMAND_FAILED', `object ${chunk.toString('latin1', i, nl)} in ${this.root}`, { data: { repository: this.root } });
            child.kill();
            notify();
            return;
          }
          size = Number(last);
          need = size + 1;
          parts = [];
          i = nl + 1;
        }
        const take = Math.min(need, chunk.length - i);
        parts.push(chunk.subarray(i, i + take));
        need -= take;
        i += take;
        if (need === 0) {
          const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          ready.push(whole.subarray(0, size));
          need = -1;
        }
      }
      if (ready.length > 0) {
        queue.push(ready);
        for (const b of ready) queuedBytes += b.length;
        if (queuedBytes > 8 << 20) child.stdout.pause();
        notify();
      }
    });
    child.stdout.on('end', () => {
      finished = true;
      notify();
    });
    child.on('error', () => {
      finished = true;
      notify();
    });
    let received = 0;
    try {
      for (;;) {
        if (failure !== undefined) throw failure;
        const batch = queue.shift();
        if (batch !== undefined) {
          for (const b of batch) queuedBytes -= b.length;
          if (child.stdout.isPaused() && queuedBytes < 2 << 20) child.stdout.resume();
          received += batch.length;
          yield batch;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (signal?.aborted) throw abortReason(signal);
      if (spawnError !== undefined) throw spawnError;
      if (received !== oids.length) {
        throw new GitError('GIT_COMMAND_FAILED', `git cat-file --batch returned ${received} of ${oids.length} blobs: ${stderr.trim()}`, {
          data: { repository: this.root, stderr },
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null) child.kill();
      await writer.catch(() => undefined);
    }
  }

  private async loadGraph(extra: readonly string[], signal?: AbortSignal): Promise<CommitGraph> {
    const head = await this.findCommit('HEAD', { signal });
    const args = ['rev-list', '--parents', '--topo-order', '--all', ...(head ? [head] : []), ...extra];
    if (!head && extra.length === 0) {
      const refs = await this.git(['for-each-ref', '--count=1', '--format=%(objectname)'], signal);
      if (refs.stdout.length === 0) return new CommitGraph([]);
    }
    const { stdout } = await this.git(args, signal);
    let shallow: string[] = [];
    if (this.shallow) {
      const text = await readFile(path.join(this.gitDir, 'shallow'), 'utf8').catch(() => '');
      shallow = text.split('\n').filter((l) => l.length === 40);
    }
    const graph = CommitGraph.fromRevList(stdout.toString('latin1'), shallow);
    this.maybeWriteCommitGraph(graph.size);
    return graph;
  }

  private maybeWriteCommitGraph(size: number): void {
    if (this.writeCommitGraphAbove === false || size <= this.writeCommitGraphAbove || this.commitGraphWrite) return;
    if (existsSync(path.join(this.gitDir, 'objects', 'info', 'commit-graph')) || existsSync(path.join(this.gitDir, 'objects', 'info', 'commit-graphs'))) return;
    this.commitGraphWrite = this.git(['commit-graph', 'write', '--reachable']).catch(() => undefined);
  }

  async isAncestorMany(queries: readonly AncestryQuery[], options: GitCallOptions = {}): Promise<boolean[]> {
    const { signal } = options;
    if (queries.length === 0) return [];
    this.graph ??= this.loadGraph([], signal);
    let graph: CommitGraph;
    try {
      graph = await this.graph;
    } catch (error) {
      this.graph = undefined;
      throw error;
    }
    // Commits the graph has not seen: either new (reload once with them) or unknown (answer no).
    const unseen = new Set<string>();
    for (const q of queries) {
      for (const c of [q.ancestor, q.descendant]) if (!graph.has(c)) unseen.add(c);
    }
    const missing = new Set<string>();
    if (unseen.size > 0) {
      const existing: string[] = [];
      for (const c of unseen) {
        const id = /^[0-9a-f]{40}$/.test(c) ? await this.findCommit(c, { signal }) : undefined;
        if (id === c) existing.push(c);
        else missing.add(c);
      }
      if (existing.length > 0) {
        this.graph = this.loadGraph(existing, signal);
        graph = await this.graph;
      }
    }
    if (this.shallow && queries.some((q) => missing.has(q.ancestor))) throw shallowError(this.root, 'an ancestry check');
    return graph.answer(queries).map((a) => {
      if (a === 'shallow') throw shallowError(this.root, 'an ancestry check');
      return a === 'yes';
    });
  }

  private async checkDiffCommits(request: DiffRequest, signal?: AbortSignal): Promise<void> {
    assertCommitId(request.from);
    assertCommitId(request.to);
    for (const c of [request.from, request.to]) {
      if ((await this.findCommit(c, { signal })) === undefined) {
        if (this.shallow) throw shallowError(this.root, `a diff from ${request.from}`);
        throw unknownCommit(c, this.root);
      }
    }
  }

  private async rawChanges(request: DiffRequest, signal?: AbortSignal): Promise<ChangedPath[]> {
    await this.checkDiffCommits(request, signal);
    const base = normalizeRepoPath(request.basePath ?? '', 'base path');
    const args = ['diff-tree', '-r', '-z', '--no-renames', '--raw', request.from, request.to];
    if (base !== '') args.push('--', `:(literal)${base}`);
    const { stdout } = await this.git(args, signal);
    const parts = stdout.toString('utf8').split('\0');
    const out: ChangedPath[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const meta = parts[i]!;
      const file = parts[i + 1]!;
      if (!meta.startsWith(':')) break;
      const [oldMode, newMode, , , status] = meta.slice(1).split(' ');
      const s = STATUS[status!.charAt(0)];
      if (s === undefined) continue;
      out.push({
        path: file,
        status: s,
        ...(s !== 'added' ? { oldMode: normalizeMode(oldMode!) } : {}),
        ...(s !== 'deleted' ? { newMode: normalizeMode(newMode!) } : {}),
      });
    }
    return out;
  }

  async changedPaths(request: DiffRequest, options: GitCallOptions = {}): Promise<ChangedPath[]> {
    const changes = this.filterChanges(await this.rawChanges(request, options.signal), request);
    return changes.sort((a, b) => comparePaths(a.path, b.path));
  }

  private diffArgs(request: PatchRequest, base: string): string[] {
    const args = ['-c', 'diff.renames=false', '-c', 'core.quotePath=false'];
    if (request.variant === 'fullContext') args.push('-c', 'diff.context=999999999');
    args.push('diff', '--full-index', '--binary', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv');
    if (request.relativeToBase !== false && base !== '') args.push(`--relative=${base}`);
    args.push(request.from, request.to);
    if (base !== '') args.push('--', `:(literal)${base}`);
    return args;
  }

  async patch(request: PatchRequest, options: GitCallOptions = {}): Promise<GitPatch> {
    const { signal } = options;
    const all = await this.rawChanges(request, signal);
    const base = normalizeRepoPath(request.basePath ?? '', 'base path');
    const { matcher } = resolveFilter(request);
    const keep = all.map((c) => matcher.isPathMatched(c.path));
    const paths = all.filter((_, i) => keep[i]);
    if (paths.length === 0) return { bytes: new Uint8Array(0), sizeBytes: 0, paths };
    const { stdout } = await this.git(this.diffArgs(request, base), signal);
    let bytes: Buffer = stdout;
    if (paths.length !== all.length) {
      const sections = splitPatch(stdout);
      // `git diff` prints a type change as a deletion and an addition: two sections for one record.
      const expected = all.reduce((n, c) => n + (c.status === 'typeChanged' ? 2 : 1), 0);
      if (sections.length !== expected) {
        throw new GitError('GIT_COMMAND_FAILED', `could not split the patch ${request.from}..${request.to} by file (${sections.length} sections for ${expected} changes)`);
      }
      const kept: Buffer[] = [];
      let s = 0;
      all.forEach((c, i) => {
        const n = c.status === 'typeChanged' ? 2 : 1;
        if (keep[i]) for (let k = 0; k < n; k++) kept.push(sections[s + k]!);
        s += n;
      });
      bytes = Buffer.concat(kept);
    }
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), sizeBytes: bytes.length, paths };
  }

  async patchSize(request: PatchRequest, options: GitCallOptions = {}): Promise<number> {
    const filtered = (request.includePaths?.length ?? 0) > 0 || (request.excludePaths?.length ?? 0) > 0;
    if (filtered) return (await this.patch(request, options)).sizeBytes;
    await this.checkDiffCommits(request, options.signal);
    const base = normalizeRepoPath(request.basePath ?? '', 'base path');
    let size = 0;
    await runGit(this.diffArgs(request, base), {
      cwd: this.root,
      gitBinary: this.gitBinary,
      signal: options.signal,
      onStdout: (c) => (size += c.length),
    });
    return size;
  }

  async findFile(commit: ObjectId, filePath: string, options: GitCallOptions = {}): Promise<Uint8Array | undefined> {
    assertCommitId(commit);
    const p = normalizeRepoPath(filePath);
    if (p === '') return undefined;
    const obj = await this.read(`${commit}:${p}`, options.signal);
    if (obj?.type !== 'blob') {
      if (obj === undefined && (await this.findCommit(commit, options)) === undefined) throw unknownCommit(commit, this.root);
      return undefined;
    }
    return new Uint8Array(obj.content.buffer, obj.content.byteOffset, obj.content.length);
  }

  async findWorkingTreeFile(filePath: string, options: GitCallOptions = {}): Promise<Uint8Array | undefined> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    return readWorkTreeFile(this.root, filePath);
  }

  async close(): Promise<void> {
    this.batch.close();
    this.graph = undefined;
    this.trees.clear();
    this.cachedEntries = 0;
    await this.commitGraphWrite;
  }
}

const STATUS: Record<string, ChangeStatus> = { A: 'added', D: 'deleted', M: 'modified', T: 'typeChanged' };

/** Splits `git diff` output into per-file sections at lines starting with `diff --git `. */
export function splitPatch(patch: Buffer): Buffer[] {
  const marker = Buffer.from('diff --git ');
  const starts: number[] = [];
  if (patch.subarray(0, marker.length).equals(marker)) starts.push(0);
  let i = patch.indexOf(Buffer.from('\ndiff --git '));
  while (i >= 0) {
    starts.push(i + 1);
    i = patch.indexOf(Buffer.from('\ndiff --git '), i + 1);
  }
  return starts.map((s, k) => patch.subarray(s, k + 1 < starts.length ? starts[k + 1] : patch.length));
}

/** Parses a raw commit object. */
export function parseCommit(id: string, content: Buffer): CommitInfo {
  const text = content.toString('utf8');
  const headerEnd = text.indexOf('\n\n');
  const parents: string[] = [];
  let timeMs = 0;
  let authorTimeMs = 0;
  for (const line of (headerEnd < 0 ? text : text.slice(0, headerEnd)).split('\n')) {
    if (line.startsWith('parent ')) parents.push(line.slice(7, 47));
    else if (line.startsWith('committer ')) timeMs = signatureTime(line);
    else if (line.startsWith('author ')) authorTimeMs = signatureTime(line);
  }
  return { id, parents, timeMs, timeIso: new Date(timeMs).toISOString(), authorTimeMs };
}

function signatureTime(line: string): number {
  const m = /> (-?\d+) [+-]\d{4}$/.exec(line);
  return m ? Number(m[1]) * 1000 : 0;
}

/** Reads a regular file of the work tree; shared by both adapters. */
export async function readWorkTreeFile(root: string, filePath: string): Promise<Uint8Array | undefined> {
  const p = normalizeRepoPath(filePath);
  if (p === '') return undefined;
  const full = path.join(root, p);
  const st = await lstat(full).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return readFile(full);
}


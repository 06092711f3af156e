/**
 * `IsomorphicGitRepository`: a pure-JavaScript adapter over isomorphic-git, for environments
 * without a `git` binary.
 *
 * Limits (measured, see README): isomorphic-git keeps whole packfiles in memory (over 1 GB on a big
 * monorepo) and has no diff/patch API, so {@link IsomorphicGitRepository.patch} and
 * {@link IsomorphicGitRepository.patchSize} decline with `GIT_UNSUPPORTED_OPERATION`. Its
 * `isDescendent` walks the whole history per call, so ancestry is answered instead from a commit
 * graph this adapter builds once by reading every commit reachable from the refs. Refs such as
 * `HEAD~2` are not understood (names and full or abbreviated ids are). Submodules are not walked
 * (nor by the native adapter).
 */
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { abortReason } from '@strata/errors';
import { assertCommitId, BaseGitRepository, shallowError, unknownCommit, unsupported } from './base.js';
import { CommitGraph } from './graph.js';
import { readWorkTreeFile } from './native.js';
import { normalizeRepoPath } from './paths.js';
import type {
  AncestryQuery,
  ChangedPath,
  CommitInfo,
  DiffRequest,
  GitCallOptions,
  GitCapabilities,
  GitPatch,
  ObjectId,
  PatchRequest,
  TreeEntry,
} from './repository.js';
import { GitError } from './repository.js';
import { comparePaths, normalizeMode, typeOfMode, type TreeSource } from './walk.js';

const FULL_ID = /^[0-9a-f]{40}$/;

export class IsomorphicGitRepository extends BaseGitRepository {
  readonly root: string;
  readonly gitdir: string;
  readonly capabilities: GitCapabilities = { patches: false, archives: true };
  private readonly shallow: boolean;
  /** isomorphic-git's pack/object cache, shared by every call of this instance. */
  private cache: object = {};
  private graph: Promise<CommitGraph> | undefined;

  /** Prefer {@link IsomorphicGitRepository.open}. No I/O here. */
  constructor(root: string, gitdir: string, shallow: boolean) {
    super();
    this.root = root;
    this.gitdir = gitdir;
    this.shallow = shallow;
  }

  /** Opens the repository containing `dir`; throws `GIT_NOT_A_REPOSITORY` when there is none. */
  static async open(dir: string, options: GitCallOptions = {}): Promise<IsomorphicGitRepository> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const abs = path.resolve(dir);
    let root: string;
    try {
      root = await git.findRoot({ fs, filepath: abs });
    } catch (cause) {
      throw new GitError('GIT_NOT_A_REPOSITORY', `${abs} is not inside a git repository`, {
        hint: 'Run Strata from a git work tree (git init && git add -A && git commit), or pass the project directory.',
        data: { repository: abs },
        cause,
      });
    }
    const gitdir = path.join(root, '.git');
    return new IsomorphicGitRepository(root, gitdir, fs.existsSync(path.join(gitdir, 'shallow')));
  }

  private base() {
    return { fs, dir: this.root, gitdir: this.gitdir, cache: this.cache };
  }

  async headCommit(options: GitCallOptions = {}): Promise<ObjectId> {
    const id = await this.findCommit('HEAD', options);
    if (id === undefined) throw unknownCommit('HEAD', this.root);
    return id;
  }

  async findCommit(ref: string, options: GitCallOptions = {}): Promise<ObjectId | undefined> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    let oid: string | undefined;
    try {
      oid = FULL_ID.test(ref) ? ref : await git.resolveRef({ ...this.base(), ref });
    } catch {
      if (/^[0-9a-f]{4,39}$/.test(ref)) oid = await git.expandOid({ ...this.base(), oid: ref }).catch(() => undefined);
    }
    if (oid === undefined) return undefined;
    // Peel annotated tags down to the commit.
    for (let depth = 0; depth < 10; depth++) {
      const obj = await git.readObject({ ...this.base(), oid }).catch(() => undefined);
      if (obj === undefined) return undefined;
      if (obj.type === 'commit') return oid;
      if (obj.type !== 'tag') return undefined;
      const tag = await git.readTag({ ...this.base(), oid });
      oid = tag.tag.object;
    }
    return undefined;
  }

  async commitInfo(commit: ObjectId, options: GitCallOptions = {}): Promise<CommitInfo> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const result = await git.readCommit({ ...this.base(), oid: commit }).catch(() => undefined);
    if (result === undefined) throw unknownCommit(commit, this.root);
    const timeMs = result.commit.committer.timestamp * 1000;
    return {
      id: result.oid,
      parents: result.commit.parent,
      timeMs,
      timeIso: new Date(timeMs).toISOString(),
      authorTimeMs: result.commit.author.timestamp * 1000,
    };
  }

  private async readTreeEntries(dir: TreeEntry): Promise<TreeEntry[]> {
    const { tree } = await git.readTree({ ...this.base(), oid: dir.objectId });
    return tree.map((e) => {
      const mode = normalizeMode(e.mode);
      return { path: dir.path === '' ? e.path : `${dir.path}/${e.path}`, mode, type: typeOfMode(mode), objectId: e.oid };
    });
  }

  protected async treeSource(commit: ObjectId, signal?: AbortSignal): Promise<TreeSource> {
    const info = await git.readCommit({ ...this.base(), oid: commit }).catch(() => undefined);
    if (info === undefined) throw unknownCommit(commit, this.root);
    const root: TreeEntry = { path: '', mode: '040000', type: 'tree', objectId: info.commit.tree };
    return {
      entryAt: async (p) => {
        let entry = root;
        if (p === '') return entry;
        for (const part of p.split('/')) {
          if (signal?.aborted) throw abortReason(signal);
          if (entry.type !== 'tree') return undefined;
          const next = (await this.readTreeEntries(entry)).find((e) => e.path.endsWith(`/${part}`) || e.path === part);
          if (!next) return undefined;
          entry = next;
        }
        return entry;
      },
      children: (dir) => this.readTreeEntries(dir),
    };
  }

  protected async *readBlobs(oids: readonly ObjectId[], signal?: AbortSignal): AsyncIterable<Buffer[]> {
    for (const oid of oids) {
      if (signal?.aborted) throw abortReason(signal);
      const { blob } = await git.readBlob({ ...this.base(), oid });
      yield [Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)];
    }
  }

  /** Reads every commit reachable from the refs and HEAD once, in topological order. */
  private async loadGraph(extra: readonly string[], signal?: AbortSignal): Promise<CommitGraph> {
    const tips = new Set<string>(extra);
    const head = await this.findCommit('HEAD', { signal });
    if (head) tips.add(head);
    for (const prefix of ['refs/heads', 'refs/tags', 'refs/remotes']) {
      const names = await listRefs(this.base(), prefix);
      for (const name of names) {
        const id = await this.findCommit(name, { signal });
        if (id) tips.add(id);
      }
    }
    const parents = new Map<string, string[]>();
    const stack = [...tips];
    while (stack.length > 0) {
      if (signal?.aborted) throw abortReason(signal);
      const c = stack.pop()!;
      if (parents.has(c)) continue;
      const r = await git.readCommit({ ...this.base(), oid: c }).catch(() => undefined);
      const ps = r?.commit.parent ?? [];
      parents.set(c, ps);
      for (const p of ps) if (!parents.has(p)) stack.push(p);
    }
    // Children before parents: reverse post-order of a DFS over parent links.
    const order: string[] = [];
    const state = new Map<string, 1 | 2>();
    for (const tip of parents.keys()) {
      if (state.has(tip)) continue;
      const work: [string, number][] = [[tip, 0]];
      state.set(tip, 1);
      while (work.length > 0) {
        const top = work[work.length - 1]!;
        const ps = parents.get(top[0]) ?? [];
        if (top[1] < ps.length) {
          const p = ps[top[1]++]!;
          if (!state.has(p) && parents.has(p)) {
            state.set(p, 1);
            work.push([p, 0]);
          }
        } else {
          state.set(top[0], 2);
          order.push(top[0]);
          work.pop();
        }
      }
    }
    order.reverse();
    let shallow: string[] = [];
    if (this.shallow) {
      shallow = fs.readFileSync(path.join(this.gitdir, 'shallow'), 'utf8').split('\n').filter((l) => l.length === 40);
    }
    return new CommitGraph(order.map((c) => [c, ...(parents.get(c) ?? [])]), shallow);
  }

  async isAncestorMany(queries: readonly AncestryQuery[], options: GitCallOptions = {}): Promise<boolean[]> {
    const { signal } = options;
    if (queries.length === 0) return [];
    this.graph ??= this.loadGraph([], signal);
    let graph = await this.graph;
    const missing = new Set<string>();
    const existing: string[] = [];
    for (const q of queries) {
      for (const c of [q.ancestor, q.descendant]) {
        if (graph.has(c) || missing.has(c) || existing.includes(c)) continue;
        if ((await this.findCommit(c, { signal })) === c) existing.push(c);
        else missing.add(c);
      }
    }
    if (existing.length > 0) {
      this.graph = this.loadGraph(existing, signal);
      graph = await this.graph;
    }
    if (this.shallow && queries.some((q) => missing.has(q.ancestor))) throw shallowError(this.root, 'an ancestry check');
    return graph.answer(queries).map((a) => {
      if (a === 'shallow') throw shallowError(this.root, 'an ancestry check');
      return a === 'yes';
    });
  }

  async changedPaths(request: DiffRequest, options: GitCallOptions = {}): Promise<ChangedPath[]> {
    const { signal } = options;
    assertCommitId(request.from);
    assertCommitId(request.to);
    for (const c of [request.from, request.to]) {
      if ((await this.findCommit(c, { signal })) === undefined) {
        if (this.shallow) throw shallowError(this.root, `a diff from ${request.from}`);
        throw unknownCommit(c, this.root);
      }
    }
    const base = normalizeRepoPath(request.basePath ?? '', 'base path');
    const [a, b] = await Promise.all([this.treeSource(request.from, signal), this.treeSource(request.to, signal)]);
    const out: ChangedPath[] = [];
    const listAll = async (e: TreeEntry, status: 'added' | 'deleted'): Promise<void> => {
      if (e.type !== 'tree') {
        out.push(status === 'added' ? { path: e.path, status, newMode: e.mode } : { path: e.path, status, oldMode: e.mode });
        return;
      }
      for (const c of await this.readTreeEntries(e)) await listAll(c, status);
    };
    const compare = async (x: TreeEntry | undefined, y: TreeEntry | undefined): Promise<void> => {
      if (signal?.aborted) throw abortReason(signal);
      if (x && y && x.objectId === y.objectId && x.mode === y.mode) return;
      if (x?.type === 'tree' && y?.type === 'tree') {
        const xs = new Map((await this.readTreeEntries(x)).map((e) => [e.path, e]));
        const ys = new Map((await this.readTreeEntries(y)).map((e) => [e.path, e]));
        for (const p of new Set([...xs.keys(), ...ys.keys()])) await compare(xs.get(p), ys.get(p));
        return;
      }
      if (x?.type === 'tree') {
        await listAll(x, 'deleted');
        if (y) await compare(undefined, y);
        return;
      }
      if (y?.type === 'tree') {
        if (x) await compare(x, undefined);
        await listAll(y, 'added');
        return;
      }
      if (x && y) {
        const typeChanged = (x.mode === '120000') !== (y.mode === '120000') || (x.mode === '160000') !== (y.mode === '160000');
        out.push({ path: x.path, status: typeChanged ? 'typeChanged' : 'modified', oldMode: x.mode, newMode: y.mode });
      } else if (x) out.push({ path: x.path, status: 'deleted', oldMode: x.mode });
      else if (y) out.push({ path: y.path, status: 'added', newMode: y.mode });
    };
    await compare(await a.entryAt(base), await b.entryAt(base));
    return this.filterChanges(out, request).sort((p, q) => comparePaths(p.path, q.path));
  }

  patch(_request: PatchRequest, _options?: GitCallOptions): Promise<GitPatch> {
    return Promise.reject(unsupported('IsomorphicGitRepository', 'patches', 'isomorphic-git has no diff/patch API'));
  }

  patchSize(_request: PatchRequest, _options?: GitCallOptions): Promise<number> {
    return Promise.reject(unsupported('IsomorphicGitRepository', 'patch sizes', 'isomorphic-git has no diff/patch API'));
  }

  async findFile(commit: ObjectId, filePath: string, options: GitCallOptions = {}): Promise<Uint8Array | undefined> {
    assertCommitId(commit);
    if (options.signal?.aborted) throw abortReason(options.signal);
    const p = normalizeRepoPath(filePath);
    if (p === '') return undefined;
    const source = await this.treeSource(commit, options.signal);
    const entry = await source.entryAt(p);
    if (entry?.type !== 'blob') return undefined;
    const { blob } = await git.readBlob({ ...this.base(), oid: entry.objectId });
    return blob;
  }

  async findWorkingTreeFile(filePath: string, options: GitCallOptions = {}): Promise<Uint8Array | undefined> {
    if (options.signal?.aborted) throw abortReason(options.signal);
    return readWorkTreeFile(this.root, filePath);
  }

  close(): Promise<void> {
    this.cache = {};
    this.graph = undefined;
    return Promise.resolve();
  }
}

async function listRefs(base: { fs: typeof fs; gitdir: string }, prefix: string): Promise<string[]> {
  const names = await git.listRefs({ fs: base.fs, gitdir: base.gitdir, filepath: prefix }).catch(() => [] as string[]);
  return names.map((n) => `${prefix}/${n}`);
}

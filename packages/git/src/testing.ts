/**
 * The `GitRepository` contract suite and its fixture builder (`@strata/git/testing`).
 *
 * Every adapter runs {@link describeGitRepositoryContract} from its own test file against real
 * repositories made with the `git` CLI in temp dirs. Expected values come from the `git` CLI, never
 * from an adapter.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync, symlinkSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitRepository, TreeEntry } from './repository.js';

/** A repository built by {@link createFixtureRepository}, with its commits by name. */
export interface FixtureRepository {
  dir: string;
  /** `base`, `change`, `feature`, `main2`, `merge` → commit id. */
  commits: Record<'base' | 'change' | 'feature' | 'main2' | 'merge', string>;
  /** Runs git in the fixture and returns stdout. */
  git(...args: string[]): string;
  /** Removes the fixture's temp dir. */
  remove(): void;
}

const MAIN_GO = `package main\n\n${Array.from({ length: 12 }, (_, i) => `// line ${i}\n`).join('')}func main() {}\n`;
const BINARY = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));

/** Runs git with fixed identities and dates so ids are reproducible. */
export function fixtureGit(cwd: string, args: readonly string[], date = '2024-01-01T00:00:00Z'): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Strata Test',
      GIT_AUTHOR_EMAIL: 'test@strata.invalid',
      GIT_COMMITTER_NAME: 'Strata Test',
      GIT_COMMITTER_EMAIL: 'test@strata.invalid',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: cwd,
    },
  });
}

/**
 * Builds a repository with files, nested dirs, a dir with spaces, a symlink, an executable, a
 * binary file, then a commit with a rename, a deletion, a mode change and a type change, a
 * `feature` branch and a merge back into `main`; tag `v1` (annotated) on `change`.
 */
export function createFixtureRepository(): FixtureRepository {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-git-fixture-'));
  let day = 1;
  const g = (...args: string[]): string => fixtureGit(dir, args, `2024-01-${String(day).padStart(2, '0')}T00:00:00Z`);
  const write = (p: string, content: string | Buffer, mode?: number): void => {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), content);
    if (mode !== undefined) chmodSync(path.join(dir, p), mode);
  };
  g('init', '-q', '-b', 'main');
  g('config', 'core.autocrlf', 'false');
  write('README.md', '# fixture\n');
  write('src/app/main.go', MAIN_GO);
  write('src/app/util.go', 'package main\n');
  write('src/lib/a.txt', 'a\n');
  write('src/lib/deep/b.txt', 'b\n');
  write('src/lib/deep/c.md', 'c\n');
  write('bin/run.sh', '#!/bin/sh\necho run\n', 0o755);
  write('assets/logo.bin', BINARY);
  write('docs/guide.md', 'guide\n');
  write('space dir/file one.txt', 'spaces\n');
  write('.hidden/config', 'hidden\n');
  symlinkSync('src/app/main.go', path.join(dir, 'link'));
  symlinkSync('README.md', path.join(dir, 'typechange'));
  g('add', '-A');
  g('commit', '-q', '-m', 'base');
  const base = g('rev-parse', 'HEAD').trim();

  day = 2;
  write('src/app/main.go', MAIN_GO.replace('func main() {}', 'func main() { println("v2") }'));
  g('rm', '-q', 'docs/guide.md');
  g('mv', 'src/lib/a.txt', 'src/lib/renamed.txt');
  chmodSync(path.join(dir, 'bin/run.sh'), 0o644);
  unlinkSync(path.join(dir, 'typechange'));
  write('typechange', 'now a file\n');
  write('assets/logo.bin', Buffer.concat([BINARY, Buffer.from([0, 1, 2, 3])]));
  g('add', '-A');
  g('commit', '-q', '-m', 'change');
  const change = g('rev-parse', 'HEAD').trim();
  g('tag', '-a', 'v1', '-m', 'v1');

  day = 3;
  g('checkout', '-q', '-b', 'feature');
  write('src/feature.txt', 'feature\n');
  g('add', '-A');
  g('commit', '-q', '-m', 'feature');
  const feature = g('rev-parse', 'HEAD').trim();

  day = 4;
  g('checkout', '-q', 'main');
  write('src/lib/deep/b.txt', 'b2\n');
  g('add', '-A');
  g('commit', '-q', '-m', 'main2');
  const main2 = g('rev-parse', 'HEAD').trim();

  day = 5;
  g('merge', '-q', '--no-ff', '-m', 'merge feature', 'feature');
  const merge = g('rev-parse', 'HEAD').trim();

  return {
    dir,
    commits: { base, change, feature, main2, merge },
    git: (...args) => fixtureGit(dir, args),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `git ls-tree -r` of a commit as {@link TreeEntry} values, sorted by path. */
export function cliTree(fixture: FixtureRepository, commit: string): TreeEntry[] {
  const out = fixture.git('ls-tree', '-r', '-z', '--full-tree', commit);
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, p] = line.split('\t') as [string, string];
      const [mode, type, objectId] = meta.split(' ') as [TreeEntry['mode'], TreeEntry['type'], string];
      return { path: p, mode, type, objectId };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** werf's checksum of (object id, mode) pairs, computed independently of the adapters. */
export function expectedChecksum(items: readonly (readonly [string, string])[]): string {
  if (items.length === 0) return '';
  const h = createHash('sha256');
  for (const [oid, mode] of items) h.update(oid + mode.padStart(7, '0'));
  return h.digest('hex');
}

export interface TarItem {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  linkname: string | null;
  content: string;
  mtimeMs: number;
}

/** Reads a whole tar stream into its entries. */
export async function readTar(stream: Readable): Promise<{ bytes: Buffer; items: TarItem[] }> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  const items: TarItem[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      const h = entry.header;
      items.push({
        name: h.name,
        type: h.type,
        mode: h.mode & 0o7777,
        uid: h.uid,
        gid: h.gid,
        uname: h.uname,
        gname: h.gname,
        linkname: h.linkname ?? null,
        content: Buffer.concat(parts).toString('latin1'),
        mtimeMs: h.mtime.getTime(),
      });
    }
  })();
  extract.end(bytes);
  await done;
  return { bytes, items };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/**
 * The contract every {@link GitRepository} adapter must meet. `open(dir)` opens the repository at
 * `dir` (and must reject with `GIT_NOT_A_REPOSITORY` for a directory outside any repository).
 */
export function describeGitRepositoryContract(name: string, open: (dir: string) => Promise<GitRepository>): void {
  describe(`GitRepository contract: ${name}`, () => {
    let fx: FixtureRepository;
    let repo: GitRepository;
    beforeAll(async () => {
      fx = createFixtureRepository();
      repo = await open(fx.dir);
    });
    afterAll(async () => {
      await repo?.close();
      fx?.remove();
    });

    it('resolves HEAD, branches, annotated tags and short ids; a miss is undefined or GIT_UNKNOWN_REF', async () => {
      expect(await repo.headCommit()).toBe(fx.commits.merge);
      expect(await repo.findCommit('feature')).toBe(fx.commits.feature);
      expect(await repo.findCommit('v1')).toBe(fx.commits.change);
      expect(await repo.findCommit(fx.commits.base.slice(0, 10))).toBe(fx.commits.base);
      expect(await repo.findCommit('no-such-branch')).toBeUndefined();
      expect(await codeOf(repo.getCommit('no-such-branch'))).toBe('GIT_UNKNOWN_REF');
      expect(await codeOf(repo.commitInfo('0'.repeat(40)))).toBe('GIT_UNKNOWN_REF');
    });

    it('reads commit metadata: parents in order, committer time', async () => {
      const info = await repo.commitInfo(fx.commits.merge);
      expect(info.parents).toEqual([fx.commits.main2, fx.commits.feature]);
      expect(info.timeMs).toBe(Date.parse('2024-01-05T00:00:00Z'));
      expect(info.timeIso).toBe('2024-01-05T00:00:00.000Z');
      expect((await repo.commitInfo(fx.commits.base)).parents).toEqual([]);
    });

    it('lists the tree like git ls-tree -r', async () => {
      for (const commit of [fx.commits.base, fx.commits.merge]) {
        expect(await repo.listTree({ commit })).toEqual(cliTree(fx, commit));
      }
    });

    it('filters by base path, include and exclude globs (a matched directory includes its subtree)', async () => {
      const paths = async (req: Parameters<GitRepository['listTree']>[0]) => (await repo.listTree(req)).map((e) => e.path);
      const commit = fx.commits.merge;
      expect(await paths({ commit, basePath: '/src', includePaths: ['app', 'lib/**/*.txt'], excludePaths: ['**/util.go'] })).toEqual([
        'src/app/main.go',
        'src/lib/deep/b.txt',
        'src/lib/renamed.txt',
      ]);
      expect(await paths({ commit, basePath: 'src/lib/', excludePaths: ['deep/'] })).toEqual(['src/lib/renamed.txt']);
      expect(await paths({ commit, includePaths: ['*.md'] })).toEqual(['README.md']);
      expect(await paths({ commit, includePaths: ['**/*.md'] })).toEqual(['README.md', 'src/lib/deep/c.md']);
      expect(await paths({ commit, includePaths: ['space dir'] })).toEqual(['space dir/file one.txt']);
      expect(await paths({ commit, basePath: 'missing' })).toEqual([]);
      const lazy = await repo.listTree({ commit, basePath: 'src', includePaths: ['app'], mode: 'lazy' });
      expect(lazy.map((e) => [e.path, e.type])).toEqual([['src/app', 'tree']]);
    });

    it('computes werf ls-tree checksums: lazy tree ids, sorted blob ids, "" for no match', async () => {
      const commit = fx.commits.merge;
      const rootTree = fx.git('rev-parse', `${commit}^{tree}`).trim();
      expect(await repo.lsTreeChecksum({ commit })).toBe(expectedChecksum([[rootTree, '40000']]));
      const appTree = fx.git('rev-parse', `${commit}:src/app`).trim();
      expect(await repo.lsTreeChecksum({ commit, basePath: 'src', includePaths: ['app'] })).toBe(expectedChecksum([[appTree, '40000']]));
      const byPath = new Map(cliTree(fx, commit).map((e) => [e.path, e]));
      const go = ['src/app/main.go', 'src/app/util.go'].map((p) => [byPath.get(p)!.objectId, '100644'] as const);
      expect(await repo.lsTreeChecksum({ commit, basePath: 'src', glob: '**/*.go' })).toBe(expectedChecksum(go));
      const link = byPath.get('link')!;
      expect(await repo.lsTreeChecksum({ commit, includePaths: ['link'] })).toBe(expectedChecksum([[link.objectId, '120000']]));
      expect(await repo.lsTreeChecksum({ commit, basePath: 'src', glob: 'nothing/**' })).toBe('');
      expect(await repo.lsTreeChecksum({ commit, basePath: 'nope' })).toBe('');
      const ignored = await repo.lsTreeChecksum({ commit, basePath: 'src', dockerignore: ['lib', '!lib/deep/c.md', 'app/util.go'] });
      expect(ignored).toBe(
        expectedChecksum(
          ['src/app/main.go', 'src/feature.txt', 'src/lib/deep/c.md'].map((p) => [byPath.get(p)!.objectId, byPath.get(p)!.mode] as const),
        ),
      );
    });

    it('computes stageDependencies checksums as a running SHA-256 over per-glob checksums', async () => {
      const commit = fx.commits.merge;
      const app = await repo.lsTreeChecksum({ commit, basePath: 'src', glob: 'app' });
      const md = await repo.lsTreeChecksum({ commit, basePath: 'src', glob: '**/*.md' });
      const result = await repo.stageDependenciesChecksum({ commit, basePath: 'src', globs: ['app', 'missing', '**/*.md'] });
      expect(result.globs).toEqual([
        { glob: 'app', checksum: app },
        { glob: 'missing', checksum: '' },
        { glob: '**/*.md', checksum: md },
      ]);
      expect(result.checksum).toBe(createHash('sha256').update(app).update(md).digest('hex'));
      expect((await repo.stageDependenciesChecksum({ commit, globs: [] })).checksum).toBe('');
      expect((await repo.stageDependenciesChecksum({ commit, globs: ['none'] })).checksum).toBe(createHash('sha256').digest('hex'));
    });

    it('rejects paths and globs that escape the repository', async () => {
      const commit = fx.commits.merge;
      expect(await codeOf(repo.listTree({ commit, basePath: '../outside' }))).toBe('GIT_PATH_OUTSIDE_REPOSITORY');
      expect(await codeOf(repo.lsTreeChecksum({ commit, includePaths: ['../../etc'] }))).toBe('GIT_PATH_OUTSIDE_REPOSITORY');
      expect(await codeOf(repo.findWorkingTreeFile('../etc/passwd'))).toBe('GIT_PATH_OUTSIDE_REPOSITORY');
    });

    it('answers ancestry like git merge-base --is-ancestor, in batches, unknown commits are "no"', async () => {
      const ids = Object.values(fx.commits);
      const queries = ids.flatMap((ancestor) => ids.map((descendant) => ({ ancestor, descendant })));
      const expected = queries.map(({ ancestor, descendant }) => {
        try {
          fx.git('merge-base', '--is-ancestor', ancestor, descendant);
          return true;
        } catch {
          return false;
        }
      });
      expect(expected.filter(Boolean).length).toBeGreaterThan(5);
      expect(expected.filter((x) => !x).length).toBeGreaterThan(5);
      expect(await repo.isAncestorMany(queries)).toEqual(expected);
      expect(await repo.isAncestor(fx.commits.feature, fx.commits.merge)).toBe(true);
      expect(await repo.isAncestor(fx.commits.main2, fx.commits.feature)).toBe(false);
      expect(await repo.isAncestor(fx.commits.merge, fx.commits.merge)).toBe(true);
      expect(await repo.isAncestor('f'.repeat(40), fx.commits.merge)).toBe(false);
      expect(await repo.isAncestor(fx.commits.base, 'e'.repeat(40))).toBe(false);
    });

    it('sees commits made after the first ancestry check', async () => {
      expect(await repo.isAncestor(fx.commits.base, fx.commits.merge)).toBe(true);
      fx.git('checkout', '-q', '-b', 'later', fx.commits.feature);
      writeFileSync(path.join(fx.dir, 'later.txt'), 'later\n');
      fx.git('add', 'later.txt');
      fx.git('commit', '-q', '-m', 'later');
      const later = fx.git('rev-parse', 'HEAD').trim();
      fx.git('checkout', '-q', 'main');
      expect(await repo.isAncestor(fx.commits.feature, later)).toBe(true);
      expect(await repo.isAncestor(fx.commits.main2, later)).toBe(false);
    });

    it('lists changed paths like git diff --no-renames (renames are delete + add)', async () => {
      const changes = await repo.changedPaths({ from: fx.commits.base, to: fx.commits.change });
      expect(changes).toEqual([
        { path: 'assets/logo.bin', status: 'modified', oldMode: '100644', newMode: '100644' },
        { path: 'bin/run.sh', status: 'modified', oldMode: '100755', newMode: '100644' },
        { path: 'docs/guide.md', status: 'deleted', oldMode: '100644' },
        { path: 'src/app/main.go', status: 'modified', oldMode: '100644', newMode: '100644' },
        { path: 'src/lib/a.txt', status: 'deleted', oldMode: '100644' },
        { path: 'src/lib/renamed.txt', status: 'added', newMode: '100644' },
        { path: 'typechange', status: 'typeChanged', oldMode: '120000', newMode: '100644' },
      ]);
      const src = await repo.changedPaths({ from: fx.commits.base, to: fx.commits.merge, basePath: 'src', excludePaths: ['app'] });
      expect(src.map((c) => c.path)).toEqual(['src/feature.txt', 'src/lib/a.txt', 'src/lib/deep/b.txt', 'src/lib/renamed.txt']);
      expect(await codeOf(repo.changedPaths({ from: '0'.repeat(40), to: fx.commits.merge }))).toBe('GIT_UNKNOWN_REF');
    });

    it('makes patches (or declines with GIT_UNSUPPORTED_OPERATION)', async () => {
      const req = { from: fx.commits.base, to: fx.commits.change };
      if (!repo.capabilities.patches) {
        expect(await codeOf(repo.patch(req))).toBe('GIT_UNSUPPORTED_OPERATION');
        expect(await codeOf(repo.patchSize(req))).toBe('GIT_UNSUPPORTED_OPERATION');
        return;
      }
      const whole = await repo.patch(req);
      const cli = execFileSync('git', ['-c', 'diff.renames=false', 'diff', '--full-index', '--binary', req.from, req.to], { cwd: fx.dir });
      expect(Buffer.from(whole.bytes).equals(cli)).toBe(true);
      expect(whole.sizeBytes).toBe(cli.length);
      expect(Buffer.from(whole.bytes).toString('latin1')).toContain('GIT binary patch');
      expect(await repo.patchSize(req)).toBe(cli.length);

      const src = await repo.patch({ ...req, basePath: 'src', excludePaths: ['lib'] });
      const text = Buffer.from(src.bytes).toString('utf8');
      expect(src.paths.map((p) => p.path)).toEqual(['src/app/main.go']);
      expect(text.startsWith('diff --git a/app/main.go b/app/main.go\n')).toBe(true);
      expect(text).not.toContain('renamed.txt');
      const full = await repo.patchSize({ ...req, basePath: 'src', excludePaths: ['lib'], variant: 'fullContext' });
      expect(full).toBeGreaterThan(src.sizeBytes);
      const none = await repo.patch({ ...req, basePath: 'src/lib/deep' });
      expect(none.sizeBytes).toBe(0);
    });

    it('archives a subtree with modes, symlinks, owner/group and a prefix', async () => {
      const { items } = await readTar(repo.archive({ commit: fx.commits.base, prefix: '/app', owner: 'www', group: 101 }));
      const byName = new Map(items.map((i) => [i.name, i]));
      expect(byName.get('app/bin/run.sh')).toMatchObject({ type: 'file', mode: 0o755, content: '#!/bin/sh\necho run\n', uname: 'www', gid: 101 });
      expect(byName.get('app/README.md')).toMatchObject({ type: 'file', mode: 0o644, content: '# fixture\n' });
      expect(byName.get('app/link')).toMatchObject({ type: 'symlink', linkname: 'src/app/main.go' });
      expect(byName.get('app/assets/logo.bin')?.content).toBe(BINARY.toString('latin1'));
      expect(byName.get('app/src/lib/deep/')).toMatchObject({ type: 'directory', mode: 0o755 });
      expect(items.every((i) => i.mtimeMs === Date.parse('2024-01-01T00:00:00Z'))).toBe(true);
      const files = items.filter((i) => i.type !== 'directory').map((i) => i.name.slice(4)).sort();
      expect(files).toEqual(cliTree(fx, fx.commits.base).map((e) => e.path).sort());

      const sub = await readTar(repo.archive({ commit: fx.commits.merge, basePath: 'src', includePaths: ['lib'], excludePaths: ['**/*.md'] }));
      expect(sub.items.map((i) => i.name)).toEqual(['lib/', 'lib/deep/', 'lib/deep/b.txt', 'lib/renamed.txt']);
      expect(sub.items.every((i) => i.uid === 0 && i.gid === 0)).toBe(true);
      const single = await readTar(repo.archive({ commit: fx.commits.merge, basePath: 'src/feature.txt', prefix: 'opt/f.txt' }));
      expect(single.items.map((i) => [i.name, i.content])).toEqual([['opt/f.txt', 'feature\n']]);
    });

    it('reads files at a commit and from the work tree', async () => {
      expect(Buffer.from((await repo.findFile(fx.commits.base, 'src/app/main.go'))!).toString()).toBe(MAIN_GO);
      expect(Buffer.from((await repo.findFile(fx.commits.base, '/assets/logo.bin'))!).equals(BINARY)).toBe(true);
      expect(await repo.findFile(fx.commits.base, 'src/feature.txt')).toBeUndefined();
      expect(await repo.findFile(fx.commits.base, 'src')).toBeUndefined();
      writeFileSync(path.join(fx.dir, 'untracked.env'), 'SECRET=1\n');
      expect(Buffer.from((await repo.findWorkingTreeFile('untracked.env'))!).toString()).toBe('SECRET=1\n');
      expect(await repo.findWorkingTreeFile('absent.txt')).toBeUndefined();
      expect(await repo.findWorkingTreeFile('src')).toBeUndefined();
    });

    it('fails to open a directory outside any repository with GIT_NOT_A_REPOSITORY', async () => {
      const plain = mkdtempSync(path.join(os.tmpdir(), 'strata-not-a-repo-'));
      try {
        expect(await codeOf(open(plain))).toBe('GIT_NOT_A_REPOSITORY');
      } finally {
        rmSync(plain, { recursive: true, force: true });
      }
    });

    it('reports a shallow clone when ancestry needs missing history', async () => {
      const clone = mkdtempSync(path.join(os.tmpdir(), 'strata-shallow-'));
      try {
        fixtureGit(os.tmpdir(), ['clone', '-q', '--depth', '1', '--branch', 'main', `file://${fx.dir}`, clone]);
        const shallow = await open(clone);
        try {
          const head = await shallow.headCommit();
          expect(head).toBe(fx.commits.merge);
          expect(await shallow.isAncestor(head, head)).toBe(true);
          const error = await shallow.isAncestor(fx.commits.base, head).then(
            () => undefined,
            (e: unknown) => e as { code?: string; hint?: string },
          );
          expect(error?.code).toBe('GIT_SHALLOW_REPOSITORY');
          expect(error?.hint).toContain('--unshallow');
        } finally {
          await shallow.close();
        }
      } finally {
        rmSync(clone, { recursive: true, force: true });
      }
    });
  });
}

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IsomorphicGitRepository, NativeGitRepository } from '../src/index.js';
import { createFixtureRepository, describeGitRepositoryContract, readTar } from '../src/testing.js';

describeGitRepositoryContract('NativeGitRepository', (dir) => NativeGitRepository.open(dir));

describe('NativeGitRepository specifics', () => {
  it('reports a missing git binary with a hint towards the isomorphic adapter', async () => {
    const fx = createFixtureRepository();
    try {
      const error = await NativeGitRepository.open(fx.dir, { gitBinary: '/nonexistent/bin/git' }).then(
        () => undefined,
        (e: unknown) => e as { code?: string; hint?: string },
      );
      expect(error?.code).toBe('GIT_BINARY_MISSING');
      expect(error?.hint).toContain('IsomorphicGitRepository');
    } finally {
      fx.remove();
    }
  });

  it('opens a work tree from a subdirectory, a bare repository, and refuses a plain directory', async () => {
    const fx = createFixtureRepository();
    const bareDir = path.join(fx.dir, '..', `${path.basename(fx.dir)}-bare.git`);
    try {
      const fromSub = await NativeGitRepository.open(path.join(fx.dir, 'src'));
      expect(fromSub.root).toBe(fx.dir);
      const head = await fromSub.headCommit();
      await fromSub.close();
      execFileSync('git', ['clone', '-q', '--bare', fx.dir, bareDir]);
      const bare = await NativeGitRepository.open(bareDir);
      expect(bare.root).toBe(bareDir);
      expect(await bare.headCommit()).toBe(head);
      await bare.close();
      await expect(NativeGitRepository.open(path.join(fx.dir, '.git', 'refs'))).rejects.toMatchObject({ code: 'GIT_NOT_A_REPOSITORY' });
      const plain = mkdtempSync(path.join(tmpdir(), 'strata-not-a-repo-'));
      try {
        await expect(NativeGitRepository.open(plain)).rejects.toMatchObject({ code: 'GIT_NOT_A_REPOSITORY' });
      } finally {
        execFileSync('rm', ['-rf', plain]);
      }
    } finally {
      execFileSync('rm', ['-rf', bareDir]);
      fx.remove();
    }
  });

  it('never answers a read after close with the closed process\'s output (a big blob cut off mid-stream)', async () => {
    const fx = createFixtureRepository();
    try {
      const big = 'x'.repeat(4 * 2 ** 20);
      writeFileSync(path.join(fx.dir, 'big.bin'), big);
      fx.git('add', 'big.bin');
      fx.git('commit', '-q', '-m', 'big');
      const repo = await NativeGitRepository.open(fx.dir);
      const commit = await repo.headCommit();
      for (let round = 0; round < 10; round++) {
        const reading = repo.findFile(commit, 'big.bin');
        await new Promise((resolve) => setTimeout(resolve, round));
        await repo.close();
        await reading.catch(() => undefined);
        // Whatever the closed process had written, this read is answered by the new one.
        const small = await repo.findFile(commit, 'README.md');
        expect(Buffer.from(small ?? []).toString('utf8')).toBe(readFileSync(path.join(fx.dir, 'README.md'), 'utf8'));
      }
      await repo.close();
    } finally {
      fx.remove();
    }
  });

  it('answers reads made together, and reads made after close (the batch process restarts)', async () => {
    const fx = createFixtureRepository();
    try {
      const repo = await NativeGitRepository.open(fx.dir);
      const commits = Object.values(fx.commits);
      expect(await Promise.all(commits.map((c) => repo.findCommit(c)))).toEqual(commits);
      const before = repo.findCommit(commits[0] as string);
      await repo.close();
      await expect(before).rejects.toThrow();
      expect(await repo.findCommit(commits[1] as string)).toBe(commits[1]);
      await repo.close();
    } finally {
      fx.remove();
    }
  });

  it('lists big subtrees in bulk and gives the same answers as tree-by-tree reads', async () => {
    const fx = createFixtureRepository();
    try {
      const bulk = await NativeGitRepository.open(fx.dir, { bulkListThreshold: 0 });
      const single = await NativeGitRepository.open(fx.dir, { bulkListThreshold: 1_000_000 });
      const commit = fx.commits.merge;
      for (const req of [{ commit }, { commit, basePath: 'src', excludePaths: ['**/*.md'] }, { commit, includePaths: ['**/b.txt'] }]) {
        expect(await bulk.listTree(req)).toEqual(await single.listTree(req));
        expect(await bulk.lsTreeChecksum(req)).toBe(await single.lsTreeChecksum(req));
      }
      await bulk.close();
      await single.close();
    } finally {
      fx.remove();
    }
  });

  it('archives raw blobs even where gitattributes ask git archive to substitute or drop files', async () => {
    const fx = createFixtureRepository();
    try {
      mkdirSync(path.join(fx.dir, 'sub'), { recursive: true });
      writeFileSync(path.join(fx.dir, 'sub/.gitattributes'), 'version.txt export-subst\nsecret.txt export-ignore\n');
      writeFileSync(path.join(fx.dir, 'sub/version.txt'), 'commit $Format:%H$\n');
      writeFileSync(path.join(fx.dir, 'sub/secret.txt'), 'kept\n');
      fx.git('add', '-A');
      fx.git('commit', '-q', '-m', 'attributes');
      const native = await NativeGitRepository.open(fx.dir);
      const iso = await IsomorphicGitRepository.open(fx.dir);
      const commit = await native.headCommit();
      for (const basePath of ['', 'sub', 'src']) {
        const a = await readTar(native.archive({ commit, basePath }));
        const b = await readTar(iso.archive({ commit, basePath }));
        expect(a.bytes.equals(b.bytes)).toBe(true);
        if (basePath === 'sub') {
          const byName = new Map(a.items.map((i) => [i.name, i.content]));
          expect(byName.get('version.txt')).toBe('commit $Format:%H$\n');
          expect(byName.get('secret.txt')).toBe('kept\n');
        }
      }
      await native.close();
      await iso.close();
    } finally {
      fx.remove();
    }
  });

  it('stops an archive and an ancestry check when the signal aborts', async () => {
    const fx = createFixtureRepository();
    try {
      const repo = await NativeGitRepository.open(fx.dir);
      const controller = new AbortController();
      controller.abort(new Error('stop now'));
      const stream = repo.archive({ commit: fx.commits.merge }, { signal: controller.signal });
      await expect(readTar(stream)).rejects.toThrow('stop now');
      await expect(repo.isAncestor(fx.commits.base, fx.commits.merge, { signal: controller.signal })).rejects.toThrow('stop now');
      expect(await repo.isAncestor(fx.commits.base, fx.commits.merge)).toBe(true);
      await repo.close();
    } finally {
      fx.remove();
    }
  });

  it('archives gitlinks (submodules) as empty directories, like the isomorphic adapter', async () => {
    const fx = createFixtureRepository();
    try {
      fx.git('update-index', '--add', '--cacheinfo', `160000,${fx.commits.base},src/vendor/lib`);
      fx.git('commit', '-q', '-m', 'gitlink');
      const native = await NativeGitRepository.open(fx.dir);
      const iso = await IsomorphicGitRepository.open(fx.dir);
      const commit = await native.headCommit();
      for (const basePath of ['', 'src']) {
        const a = await readTar(native.archive({ commit, basePath }));
        const b = await readTar(iso.archive({ commit, basePath }));
        expect(a.bytes.equals(b.bytes)).toBe(true);
        expect(a.items.find((i) => i.name === `${basePath === '' ? 'src/' : ''}vendor/lib/`)?.type).toBe('directory');
      }
      const listed = await native.listTree({ commit, basePath: 'src/vendor' });
      expect(listed).toEqual([{ path: 'src/vendor/lib', mode: '160000', type: 'commit', objectId: fx.commits.base }]);
      await native.close();
      await iso.close();
    } finally {
      fx.remove();
    }
  });

  it('makes byte-identical tars from git archive for names and targets git archive encodes differently', async () => {
    const fx = createFixtureRepository();
    try {
      const write = (p: string | Buffer, content: string | Buffer): void => {
        const full = Buffer.isBuffer(p) ? Buffer.concat([Buffer.from(`${fx.dir}/`), p]) : path.join(fx.dir, p);
        mkdirSync(path.dirname(full.toString()), { recursive: true });
        writeFileSync(full, content);
      };
      const long = `sub/${'d'.repeat(70)}/${'e'.repeat(70)}`;
      write(`${long}/split.txt`, 'ustar prefix\n');
      write(`sub/${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}.txt`, 'pax path\n');
      write(`sub/${'n'.repeat(96)}`, 'a name of exactly 100 bytes\n');
      write(`sub/${'m'.repeat(95)}/f`, 'a directory name of exactly 100 bytes\n');
      write('sub/ünïcødé/ßtraße.txt', 'utf8\n');
      write(Buffer.from([0x73, 0x75, 0x62, 0x2f, 0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9, 0x2e, 0x74, 0x78, 0x74]), 'latin-1 name\n');
      write('sub/big.bin', Buffer.alloc(3 * 1024 * 1024 + 17, 7));
      write('sub/crlf.txt', 'line one\nline two\n');
      symlinkSync(`../${'t'.repeat(150)}`, path.join(fx.dir, 'sub/long-link'));
      symlinkSync('t'.repeat(100), path.join(fx.dir, 'sub/link-100'));
      fx.git('add', '-A');
      fx.git('commit', '-q', '-m', 'edge cases');
      // git archive would convert line endings under autocrlf; Strata archives raw blobs.
      fx.git('config', 'core.autocrlf', 'true');
      const native = await NativeGitRepository.open(fx.dir);
      const iso = await IsomorphicGitRepository.open(fx.dir);
      const commit = await native.headCommit();
      for (const basePath of ['', 'sub', long]) {
        for (const request of [{}, { prefix: 'app' }, { prefix: `/${'p'.repeat(80)}/${'q'.repeat(40)}/`, owner: 'www', group: 33 }]) {
          const a = await readTar(native.archive({ commit, basePath, ...request }));
          const b = await readTar(iso.archive({ commit, basePath, ...request }));
          expect(a.bytes.equals(b.bytes)).toBe(true);
          if (basePath === 'sub' && !('prefix' in request)) {
            const byName = new Map(a.items.map((i) => [i.name, i]));
            expect(byName.get('crlf.txt')?.content).toBe('line one\nline two\n');
            expect(byName.get(`${'n'.repeat(96)}`)?.content).toBe('a name of exactly 100 bytes\n');
            expect(byName.get('long-link')?.linkname).toBe(`../${'t'.repeat(150)}`);
            expect(a.items.some((i) => i.name.endsWith('z.txt') && i.name.length > 360)).toBe(true);
          }
        }
      }
      await native.close();
      await iso.close();
    } finally {
      fx.remove();
    }
  });

  it('archives trees holding an empty tree like the isomorphic adapter (no entry for it)', async () => {
    const fx = createFixtureRepository();
    try {
      const git = (args: string[], input?: string): string => execFileSync('git', args, { cwd: fx.dir, input, encoding: 'utf8' }).trim();
      const empty = git(['hash-object', '-t', 'tree', '-w', '--stdin'], '');
      const blob = git(['hash-object', '-w', '--stdin'], 'kept\n');
      const sub = git(['mktree'], `040000 tree ${empty}\tempty\n100644 blob ${blob}\tfile.txt\n`);
      const root = git(['mktree'], `040000 tree ${sub}\tsub\n`);
      const commit = git(['commit-tree', root, '-m', 'empty tree'], undefined);
      const native = await NativeGitRepository.open(fx.dir);
      const iso = await IsomorphicGitRepository.open(fx.dir);
      for (const basePath of ['', 'sub']) {
        const a = await readTar(native.archive({ commit, basePath }));
        const b = await readTar(iso.archive({ commit, basePath }));
        expect(a.bytes.equals(b.bytes)).toBe(true);
        expect(a.items.map((i) => i.name)).toEqual(basePath === '' ? ['sub/', 'sub/file.txt'] : ['file.txt']);
      }
      await native.close();
      await iso.close();
    } finally {
      fx.remove();
    }
  });

  it('stops a git-archive-based tar when the signal aborts or the reader goes away mid-stream', async () => {
    const fx = createFixtureRepository();
    try {
      for (let i = 0; i < 4; i++) writeFileSync(path.join(fx.dir, `big-${i}.bin`), Buffer.alloc(2 * 1024 * 1024, i));
      fx.git('add', '-A');
      fx.git('commit', '-q', '-m', 'big files');
      const repo = await NativeGitRepository.open(fx.dir);
      const commit = await repo.headCommit();
      const controller = new AbortController();
      const stream = repo.archive({ commit }, { signal: controller.signal });
      let seen = 0;
      await expect(
        (async () => {
          for await (const chunk of stream) {
            seen += (chunk as Buffer).length;
            controller.abort(new Error('enough'));
          }
        })(),
      ).rejects.toThrow('enough');
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThan(8 * 1024 * 1024);

      const early = repo.archive({ commit });
      for await (const chunk of early) {
        expect((chunk as Buffer).length).toBeGreaterThan(0);
        break;
      }
      expect(early.destroyed).toBe(true);
      // The adapter still works after both.
      const whole = await readTar(repo.archive({ commit }));
      expect(whole.items.filter((i) => i.name.startsWith('big-')).map((i) => i.content.length)).toEqual([2097152, 2097152, 2097152, 2097152]);
      await repo.close();
    } finally {
      fx.remove();
    }
  });
});

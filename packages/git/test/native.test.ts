import { mkdirSync, writeFileSync } from 'node:fs';
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
});

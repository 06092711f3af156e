import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsomorphicGitRepository, NativeGitRepository, type GitRepository, type PathFilter } from '../src/index.js';
import { createFixtureRepository, readTar, type FixtureRepository } from '../src/testing.js';

describe('native and isomorphic adapters agree', () => {
  let fx: FixtureRepository;
  let native: GitRepository;
  let iso: GitRepository;
  beforeAll(async () => {
    fx = createFixtureRepository();
    native = await NativeGitRepository.open(fx.dir);
    iso = await IsomorphicGitRepository.open(fx.dir);
  });
  afterAll(async () => {
    await native.close();
    await iso.close();
    fx.remove();
  });

  const filters: PathFilter[] = [
    {},
    { basePath: 'src' },
    { basePath: '/src/', includePaths: ['app', 'lib/deep/*'], excludePaths: ['**/c.md'] },
    { includePaths: ['**/*.txt', 'link'] },
    { excludePaths: ['src', 'assets/'] },
    { basePath: 'bin/run.sh' },
  ];

  it('gives identical trees, checksums and tars for every commit and filter', async () => {
    for (const commit of Object.values(fx.commits)) {
      for (const filter of filters) {
        const req = { commit, ...filter };
        expect(await iso.listTree(req)).toEqual(await native.listTree(req));
        expect(await iso.listTree({ ...req, mode: 'lazy' })).toEqual(await native.listTree({ ...req, mode: 'lazy' }));
        expect(await iso.lsTreeChecksum(req)).toBe(await native.lsTreeChecksum(req));
        const a = await readTar(native.archive({ ...req, prefix: 'app', owner: 'app', group: 'app' }));
        const b = await readTar(iso.archive({ ...req, prefix: 'app', owner: 'app', group: 'app' }));
        expect(b.bytes.equals(a.bytes)).toBe(true);
      }
      const deps = { commit, basePath: 'src', globs: ['app', '**/*.md', 'none'] };
      expect(await iso.stageDependenciesChecksum(deps)).toEqual(await native.stageDependenciesChecksum(deps));
    }
  });

  it('gives identical changed paths and ancestry answers', async () => {
    const ids = Object.values(fx.commits);
    for (const from of ids) {
      for (const to of ids) {
        for (const filter of filters.slice(0, 4)) {
          const req = { from, to, ...filter };
          expect(await iso.changedPaths(req)).toEqual(await native.changedPaths(req));
        }
      }
    }
    const pairs = ids.flatMap((ancestor) => ids.map((descendant) => ({ ancestor, descendant })));
    expect(await iso.isAncestorMany(pairs)).toEqual(await native.isAncestorMany(pairs));
  });
});

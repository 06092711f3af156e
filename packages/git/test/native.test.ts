import { describe, expect, it } from 'vitest';
import { NativeGitRepository } from '../src/index.js';
import { createFixtureRepository, describeGitRepositoryContract } from '../src/testing.js';

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
});

import { expect, it } from 'vitest';
import * as api from '../src/index.js';
import * as testing from '../src/testing.js';

it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toEqual(['GitError', 'IsomorphicGitRepository', 'NativeGitRepository']);
  expect(Object.keys(testing).sort()).toEqual([
    'cliTree',
    'createFixtureRepository',
    'describeGitRepositoryContract',
    'expectedChecksum',
    'fixtureGit',
    'readTar',
  ]);
});

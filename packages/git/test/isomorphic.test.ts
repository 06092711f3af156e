import { IsomorphicGitRepository } from '../src/index.js';
import { describeGitRepositoryContract } from '../src/testing.js';

describeGitRepositoryContract('IsomorphicGitRepository', (dir) => IsomorphicGitRepository.open(dir));

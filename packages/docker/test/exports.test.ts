import { expect, it } from 'vitest';
import * as api from '../src/index.js';

// STYLE rule 25: the public API is explicit; a new or removed export shows up here in review.
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'DockerBuildError',
    'DockerError',
    'DockerExecutor',
    'DockerStageStore',
    'dockerInstructionsConfig',
    'imageSpecConfig',
    'isUnsetCommand',
    'mountsHostConfig',
    'parseHealthcheck',
    'restoredConfig',
  ]);
});

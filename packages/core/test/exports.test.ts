/**
 * Pins the public API (STYLE rule 25): an added or removed export shows up here in review. The
 * digest/conveyor/explain modules re-exported from the index are pinned by their own owners' tests,
 * so they are subtracted here.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@strata/core';
import * as testing from '@strata/core/testing';
import * as conveyor from '../src/conveyor/index.js';
import * as digest from '../src/digest/index.js';
import * as explain from '../src/explain/index.js';

describe('public API', () => {
  it('@strata/core exports exactly these runtime names (besides digest/conveyor/explain)', () => {
    const reexported = new Set([...Object.keys(digest), ...Object.keys(conveyor), ...Object.keys(explain)]);
    const own = Object.keys(core).filter((name) => !reexported.has(name)).sort();
    expect(own).toEqual(PINNED_CORE);
    for (const name of reexported) expect(core).toHaveProperty(name);
  });

  it('@strata/core/testing exports exactly these runtime names', () => {
    expect(Object.keys(testing).sort()).toEqual(PINNED_TESTING);
  });
});

const PINNED_CORE = [
  'CachedStageStore',
  'CoreError',
  'DEFAULT_PARALLEL_TASKS_LIMIT',
  'DOCKERFILE_STAGE_NAMES',
  'GIT_STAGE_NAMES',
  'MemoryStageBackend',
  'MemoryStageLock',
  'MemoryStageStore',
  'STAGE_LABELS',
  'STAGE_NAMES',
  'STAPEL_STAGE_NAMES',
  'SingleFlight',
  'buildReport',
  'commitsToCheck',
  'compareStageIds',
  'createEngine',
  'eligibleStageIds',
  'findSuitableStage',
  'findSuitableStageAmong',
  'formatPlan',
  'formatStageId',
  'gitAncestryOracle',
  'imageDependencies',
  'imageGraph',
  'isGitRelatedStage',
  'isStageDigest',
  'isStageName',
  'labelsToRecord',
  'lookupStage',
  'parseStageDigest',
  'parseStageId',
  'parseStageName',
  'planBuild',
  'publishStage',
  'readStageLabels',
  'recordToLabels',
  'runSchedule',
  'sameStageId',
  'selectStage',
  'splitImageRef',
  'stageId',
  'stageLabels',
  'stageLockKey',
  'systemClock',
  'tryParseStageId',
  'withLock',
];
const PINNED_TESTING = [
  'FakeExecutor',
  'ManualClock',
  'MemoryStageBackend',
  'MemoryStageLock',
  'MemoryStageStore',
  'canonicalJson',
  'describeStageLockContract',
  'describeStageStoreContract',
  'flushMicrotasks',
  'testCommit',
  'testDigest',
  'testStageRecord',
];

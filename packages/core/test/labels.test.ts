import { describe, expect, it } from 'vitest';
import { CoreError, labelsToRecord, readStageLabels, recordToLabels, stageId } from '@strata/core';
import { testCommit, testDigest, testStageRecord } from '@strata/core/testing';

const D = testDigest('labels');

describe('stage labels', () => {
  it('writes werf\'s label names', () => {
    const record = testStageRecord(D, 42, {
      project: 'app',
      contentDigest: 'cd',
      parentStageId: stageId(testDigest('parent'), 7),
      commits: { ['a'.repeat(64)]: testCommit('x') },
      headCommit: testCommit('head'),
      importChecksums: { imp: 'sum' },
      labels: {},
    });
    expect(recordToLabels(record)).toEqual({
      werf: 'app',
      'werf-cache-version': '1.2',
      'werf-stage-digest': D,
      'werf-stage-content-digest': 'cd',
      'werf.io/parent-stage-id': `${testDigest('parent')}-7`,
      'werf-project-repo-commit': testCommit('head'),
      [`werf-git-${'a'.repeat(64)}-commit`]: testCommit('x'),
      'werf-import-checksum-imp': 'sum',
    });
  });

  it('round-trips a record through labels', () => {
    const record = testStageRecord(D, 42, {
      parentStageId: stageId(testDigest('parent'), 7),
      commits: { h1: testCommit('1'), h2: testCommit('2') },
      headCommit: testCommit('head'),
      importChecksums: { i: 's' },
      labels: { 'other/label': 'v' },
      size: 10,
      imageId: 'sha256:abc',
    });
    const back = labelsToRecord(recordToLabels(record), { id: record.id, imageRef: record.imageRef, size: 10, imageId: 'sha256:abc' });
    expect(back).toEqual(record);
  });

  it('treats images without the werf label as non-stages and rejects malformed stage labels', () => {
    expect(readStageLabels({ maintainer: 'x' })).toBeUndefined();
    expect(labelsToRecord({}, { id: stageId(D, 1), imageRef: 'x' })).toBeUndefined();
    expect(() => readStageLabels({ werf: 'p' })).toThrow(CoreError);
    expect(() => readStageLabels({ werf: 'p', 'werf-stage-content-digest': 'c', 'werf.io/parent-stage-id': 'nope' })).toThrow(
      expect.objectContaining({ code: 'INVALID_STAGE_LABELS' }),
    );
    expect(() =>
      labelsToRecord({ werf: 'p', 'werf-stage-content-digest': 'c', 'werf-stage-digest': testDigest('else') }, { id: stageId(D, 1), imageRef: 'x' }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_STAGE_LABELS' }));
  });
});

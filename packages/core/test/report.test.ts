import { describe, expect, it } from 'vitest';
import { buildReport, splitImageRef } from '@strata/core';
import { testDigest, testStageRecord } from '@strata/core/testing';

describe('buildReport', () => {
  it('follows werf\'s report shape, with Digest/StageID/Status and `~` for the nameless image', () => {
    const d1 = testDigest('from');
    const d2 = testDigest('setup');
    const from = testStageRecord(d1, 1763800000000, { imageRef: `127.0.0.1:5000/demo:${d1}-1763800000000`, imageId: 'sha256:aaa', repoDigest: 'sha256:bbb', size: 100 });
    const setup = testStageRecord(d2, 1763800000500, { imageRef: `127.0.0.1:5000/demo:${d2}-1763800000500`, imageId: 'sha256:ccc', size: 250 });
    const report = buildReport([
      {
        image: '~',
        final: true,
        commit: 'c'.repeat(40),
        durationMs: 4200,
        stages: [
          { name: 'from', stage: from, status: 'reused', durationMs: 3 },
          { name: 'setup', stage: setup, status: 'built', durationMs: 4190 },
        ],
      },
    ]);
    expect(report).toEqual({
      Images: {
        '~': {
          WerfImageName: '~',
          DockerRepo: '127.0.0.1:5000/demo',
          DockerTag: `${d2}-1763800000500`,
          DockerImageID: 'sha256:ccc',
          DockerImageDigest: '',
          DockerImageName: `127.0.0.1:5000/demo:${d2}-1763800000500`,
          Rebuilt: true,
          Final: true,
          Size: 250,
          BuildTime: '4.20',
          Commit: 'c'.repeat(40),
          Stages: [
            {
              Name: 'from', DockerImageName: from.imageRef, DockerTag: `${d1}-1763800000000`, DockerImageID: 'sha256:aaa',
              DockerImageDigest: 'sha256:bbb', CreatedAt: 1763800000000, Size: 100, Rebuilt: false, BuildTime: '0.00',
              Digest: d1, StageID: `${d1}-1763800000000`, Status: 'reused',
            },
            {
              Name: 'setup', DockerImageName: setup.imageRef, DockerTag: `${d2}-1763800000500`, DockerImageID: 'sha256:ccc',
              DockerImageDigest: '', CreatedAt: 1763800000500, Size: 250, Rebuilt: true, BuildTime: '4.19',
              Digest: d2, StageID: `${d2}-1763800000500`, Status: 'built',
            },
          ],
        },
      },
    });
  });

  it('splits image references', () => {
    expect(splitImageRef('localhost:5000/a/b:tag')).toEqual({ repo: 'localhost:5000/a/b', tag: 'tag' });
    expect(splitImageRef('localhost:5000/a/b')).toEqual({ repo: 'localhost:5000/a/b', tag: '' });
    expect(splitImageRef('demo:abc-1')).toEqual({ repo: 'demo', tag: 'abc-1' });
    expect(splitImageRef('repo@sha256:abc')).toEqual({ repo: 'repo', tag: '' });
  });
});

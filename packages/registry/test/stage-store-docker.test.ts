/**
 * Moving stages between the Docker daemon and the registry with `RegistryStageStore`: a local image
 * pushed by the daemon becomes a stage (relabelled in the registry when its labels differ), and the
 * stored stage is an image the daemon can pull by its `imageRef` (what a Docker executor does, lazily,
 * when it must build on a stage it does not have). Needs the Docker engine and the registry of
 * `scripts/services.sh`: skipped with the reason locally, failing under CI=true.
 */
import { describe, expect, it } from 'vitest';
import { formatStageId, stageId, stageLabels } from '@strata/core';
import { testDigest } from '@strata/core/testing';
import { RegistryClient, RegistryStageStore } from '@strata/registry';
import { BASE_IMAGE, REGISTRY, requireServices } from '../../../test/support/services.js';
import { DockerCliIngest, dockerPullLabels } from './support/docker-cli-ingest.js';
import { uniqueRepository } from './support/stage-kit.js';

describe('RegistryStageStore with the Docker daemon', () => {
  it('publishes a local image through the daemon push, and the stage pulls back with its labels', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry');
    const project = 'strata-docker-ingest';
    const repository = uniqueRepository(REGISTRY, 'docker');
    const ingest = new DockerCliIngest();
    const client = new RegistryClient();
    const store = new RegistryStageStore(repository, { client, project, ingest });
    const digest = testDigest(`docker-${Date.now()}`);
    const id = stageId(digest, Date.now());
    const labels = stageLabels({ project, digest, contentDigest: 'docker-content', commits: {}, importChecksums: {}, headCommit: 'a'.repeat(40) });

    const result = await store.publish({ id, project, contentDigest: 'docker-content', imageRef: BASE_IMAGE, commits: {}, importChecksums: {}, labels, createdAtMs: id.timestampMs });
    expect(result.status).toBe('stored');
    const ref = `${repository.toString()}:${formatStageId(id)}`;
    expect(ingest.pushes.map((p) => p.target)).toEqual([ref]);
    if (result.status !== 'stored') return;
    expect(result.stage.imageRef).toBe(ref);
    // busybox has no stage labels: the store relabelled what the daemon pushed.
    expect(result.stage.repoDigest).not.toBe(ingest.pushes[0]?.digest);
    expect((await store.findStage(id))?.headCommit).toBe('a'.repeat(40));

    // The daemon pulls the stage by its imageRef and sees the stage labels.
    const pulled = await dockerPullLabels(ref);
    expect(pulled).toMatchObject({ werf: project, 'werf-stage-digest': digest, 'werf-project-repo-commit': 'a'.repeat(40) });
  });
});

import { Readable } from 'node:stream';
import { describeStageStoreContract } from '@strata/core/testing';
import { formatStageId, stageId, stageLabels } from '@strata/core';
import { afterAll, describe, expect, it } from 'vitest';
import tar from 'tar-stream';
import { DockerStageStore } from '../src/index.js';
import { findMissingServices, requireServices } from '../../../test/support/services.js';
import { BASE_IMAGE, Janitor, dockerClient, freshDigest, uniqueName } from './support/kit.js';

const missing = await findMissingServices('docker');
const docker = dockerClient();
const janitor = new Janitor(docker);
const projects: string[] = [];

/** A distinct local image per name: busybox with a label (no stage labels). */
async function sourceImage(name: string): Promise<string> {
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile' }, `FROM ${BASE_IMAGE}\n`);
  pack.finalize();
  const stream = await docker.buildImage(Readable.from(pack as AsyncIterable<Buffer>), {
    labels: { 'org.example/source': `${name}-${uniqueName('x')}` },
    networkmode: 'none',
    rm: true,
    forcerm: true,
  });
  const output = await new Promise<{ aux?: { ID?: string } }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, result: { aux?: { ID?: string } }[]) => (error ? reject(error) : resolve(result))),
  );
  const id = output.find((m) => m.aux?.ID)?.aux?.ID;
  if (!id) throw new Error(`could not build source image ${name}`);
  janitor.images.add(id);
  return id;
}

afterAll(async () => {
  if (missing) return;
  for (const project of projects) await janitor.removeProjectImages(project);
  await janitor.clean();
});

if (missing) {
  it('StageStore contract: DockerStageStore', (ctx) => ctx.skip(missing));
} else {
  describeStageStoreContract('DockerStageStore', () => {
    const project = uniqueName('strata-store-test');
    projects.push(project);
    return {
      project,
      client: () => new DockerStageStore({ docker, project, pullMissingSource: false }),
      sourceImage,
      cleanup: async () => {
        await janitor.removeProjectImages(project);
        await janitor.clean();
      },
    };
  });
}

describe('DockerStageStore on the engine', () => {
  it('tags stages PROJECT:DIGEST-TS and lists only its project', async (ctx) => {
    await requireServices(ctx, 'docker');
    const project = uniqueName('strata-store-a');
    const other = uniqueName('strata-store-b');
    projects.push(project, other);
    const source = await sourceImage('naming');
    const digest = freshDigest();
    const id = stageId(digest, 1_700_000_000_042);
    const labels = stageLabels({ project, digest, contentDigest: 'c1', commits: {}, importChecksums: {} });
    const store = new DockerStageStore({ docker, project });
    const result = await store.publish({ id, project, contentDigest: 'c1', imageRef: source, commits: {}, importChecksums: {}, labels, createdAtMs: id.timestampMs });
    expect(result.status).toBe('stored');
    const ref = `${project}:${digest}-1700000000042`;
    if (result.status === 'stored') {
      expect(result.stage.imageRef).toBe(ref);
      expect(result.stage.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(result.stage.size).toBeGreaterThan(0);
    }
    const inspected = await docker.getImage(ref).inspect();
    expect(inspected.Config.Labels).toMatchObject({ werf: project, 'werf-stage-digest': digest, 'werf-stage-content-digest': 'c1' });
    // The relabelled image keeps the source's config and adds no layer.
    const base = await docker.getImage(BASE_IMAGE).inspect();
    expect(inspected.RootFS.Layers).toEqual(base.RootFS.Layers);
    expect(inspected.Config.Cmd).toEqual(base.Config.Cmd);
    expect((await store.listStageIds(undefined)).map(formatStageId)).toEqual([formatStageId(id)]);
    expect(await new DockerStageStore({ docker, project: other }).listStageIds(undefined)).toEqual([]);
  });

  it('tags the executor image as is when its labels already match', async (ctx) => {
    await requireServices(ctx, 'docker');
    const project = uniqueName('strata-store-c');
    projects.push(project);
    const digest = freshDigest();
    const id = stageId(digest, 1_700_000_000_001);
    const labels = stageLabels({ project, digest, contentDigest: 'c2', commits: {}, importChecksums: {} });
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, `FROM ${BASE_IMAGE}\n`);
    pack.finalize();
    const stream = await docker.buildImage(Readable.from(pack as AsyncIterable<Buffer>), { labels, networkmode: 'none', rm: true, forcerm: true });
    const output = await new Promise<{ aux?: { ID?: string } }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, result: { aux?: { ID?: string } }[]) => (error ? reject(error) : resolve(result))),
    );
    const imageId = output.find((m) => m.aux?.ID)?.aux?.ID ?? '';
    janitor.images.add(imageId);
    const store = new DockerStageStore({ docker, project });
    const result = await store.publish({ id, project, contentDigest: 'c2', imageRef: imageId, commits: {}, importChecksums: {}, labels, createdAtMs: id.timestampMs });
    expect(result.status === 'stored' && result.stage.imageId).toBe(imageId);
  });

  it('fails with DOCKER_IMAGE_NOT_FOUND for a source image the engine does not have', async (ctx) => {
    await requireServices(ctx, 'docker');
    const project = uniqueName('strata-store-d');
    const digest = freshDigest();
    const id = stageId(digest, 1);
    const store = new DockerStageStore({ docker, project, pullMissingSource: false });
    const labels = stageLabels({ project, digest, contentDigest: 'c', commits: {}, importChecksums: {} });
    await expect(
      store.publish({ id, project, contentDigest: 'c', imageRef: 'strata-no-such-image:1', commits: {}, importChecksums: {}, labels, createdAtMs: 1 }),
    ).rejects.toMatchObject({ code: 'DOCKER_IMAGE_NOT_FOUND' });
    expect(await store.listStageIds(digest, { live: true })).toEqual([]);
  });

  it('shares one engine listing among concurrent first listings', async (ctx) => {
    await requireServices(ctx, 'docker');
    const project = uniqueName('strata-store-e');
    let listings = 0;
    const counting = new Proxy(docker, {
      get(target, key, receiver) {
        if (key === 'listImages') {
          return (...args: Parameters<typeof docker.listImages>) => {
            listings++;
            return target.listImages(...args);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const store = new DockerStageStore({ docker: counting, project });
    const lists = await Promise.all(Array.from({ length: 5 }, () => store.listStageIds(undefined)));
    expect(lists).toEqual([[], [], [], [], []]);
    expect(listings).toBe(1);
    await store.listStageIds(undefined);
    expect(listings).toBe(1);
    await store.listStageIds(undefined, { live: true });
    expect(listings).toBe(2);
  });
});

describe('DockerStageStore findStage from the listing', () => {
  it('answers listed stages from the snapshot with the record an inspect gives, and inspects unlisted ids', async (ctx) => {
    await requireServices(ctx, 'docker');
    const project = uniqueName('strata-store-f');
    projects.push(project);
    const digest = freshDigest();
    const id = stageId(digest, 1_700_000_000_007);
    const labels = stageLabels({ project, digest, contentDigest: 'c3', commits: {}, importChecksums: {} });
    const source = await sourceImage('snapshot');
    const publisher = new DockerStageStore({ docker, project });
    expect((await publisher.publish({ id, project, contentDigest: 'c3', imageRef: source, commits: {}, importChecksums: {}, labels, createdAtMs: id.timestampMs })).status).toBe('stored');
    const inspected = await new DockerStageStore({ docker, project }).findStage(id);

    let inspects = 0;
    const counting = new Proxy(docker, {
      get(target, key, receiver) {
        if (key === 'getImage') {
          return (name: string) => {
            const image = target.getImage(name);
            return new Proxy(image, {
              get(img, k, r) {
                if (k === 'inspect') {
                  return (...args: Parameters<typeof image.inspect>) => {
                    inspects++;
                    return image.inspect(...args);
                  };
                }
                return Reflect.get(img, k, r) as unknown;
              },
            });
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const store = new DockerStageStore({ docker: counting, project });
    expect(await store.listStageIds(digest)).toEqual([id]);
    const found = await store.findStage(id);
    expect(inspects).toBe(0);
    expect(found).toBeDefined();
    expect(found).toEqual(inspected);
    expect(found?.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(found?.size).toBeGreaterThan(0);
    expect(found?.contentDigest).toBe('c3');

    // An id the snapshot lacks is asked of the engine: a miss stays a miss, another client's later publish is found.
    expect(await store.findStage(stageId(digest, 1))).toBeUndefined();
    expect(inspects).toBe(1);
    const later = stageId(digest, 1_700_000_000_008);
    const laterSource = await sourceImage('snapshot-later');
    await publisher.publish({ id: later, project, contentDigest: 'c3', imageRef: laterSource, commits: {}, importChecksums: {}, labels, createdAtMs: later.timestampMs });
    expect((await store.findStage(later))?.id).toEqual(later);
    expect(inspects).toBe(2);
  });
});

/**
 * The client against a real Distribution v2 registry started by the test on a free loopback port
 * (no auth). Needs Debian's `docker-registry`: skipped with a reason locally, failing under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MediaType,
  RegistryClient,
  RegistryError,
  TagListCache,
  copyImage,
  digestOf,
  findImageLabels,
  parseManifest,
  parseRepository,
  type Repository,
} from '@strata/registry';
import { tinyImage, type TinyImage } from './support/images.js';
import { findRegistryBinary, requireRegistryBinary, startRegistry, type RegistryProcess } from './support/registry-process.js';

let registry: RegistryProcess | undefined;

beforeAll(async () => {
  const binary = findRegistryBinary();
  if (binary !== undefined) registry = await startRegistry(binary);
});

afterAll(async () => {
  await registry?.stop();
});

/** The running registry, or a skip/failure (CI) with the reason. */
function host(ctx: Parameters<typeof requireRegistryBinary>[0]): string {
  requireRegistryBinary(ctx);
  if (registry === undefined) throw new Error('registry did not start');
  return registry.host;
}

async function push(client: RegistryClient, repository: Repository, image: TinyImage, tag: string): Promise<void> {
  await client.uploadBlob(repository, image.layer.bytes);
  await client.uploadBlob(repository, image.config.bytes);
  await client.putManifest(repository.at(tag), image.manifest);
}

describe('RegistryClient against a real registry', () => {
  it('pings a registry without auth', async (ctx) => {
    const client = new RegistryClient();
    await expect(client.ping(host(ctx))).resolves.toEqual({ authentication: 'none' });
  });

  it('pushes an image and reads manifests and blobs back, by tag and by digest', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/push-pull`);
    const client = new RegistryClient();
    const image = tinyImage({ labels: { werf: 'demo', 'werf-stage-content-digest': 'abc' } });

    expect(await client.uploadBlob(repository, image.layer.bytes)).toEqual({ status: 'uploaded', digest: image.layer.digest, size: image.layer.size });
    expect(await client.uploadBlob(repository, image.layer.bytes)).toEqual({ status: 'exists', digest: image.layer.digest, size: image.layer.size });
    await client.uploadBlob(repository, image.config.bytes, { digest: image.config.digest });
    const put = await client.putManifest(repository.at('v1'), image.manifest);
    expect(put.digest).toBe(image.manifest.digest);

    const byTag = await client.getManifest(repository.at('v1'));
    expect(byTag.digest).toBe(image.manifest.digest);
    expect(byTag.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(Buffer.from(byTag.bytes).equals(Buffer.from(image.manifest.bytes))).toBe(true);

    const head = await client.headManifest(repository.at(image.manifest.digest));
    expect(head).toEqual({ mediaType: MediaType.OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.bytes.byteLength });

    const parsed = parseManifest(byTag);
    expect(parsed.kind).toBe('image');
    expect(await client.headBlob(repository, image.layer.digest)).toEqual({ digest: image.layer.digest, size: image.layer.size });
    expect(Buffer.from(await client.getBlob(repository, image.config.digest)).equals(Buffer.from(image.config.bytes))).toBe(true);
    expect(await findImageLabels(client, repository.at('v1'))).toEqual({ werf: 'demo', 'werf-stage-content-digest': 'abc' });
  });

  it('stores Docker schema 2 manifests and OCI indexes', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/formats`);
    const client = new RegistryClient();
    const docker = tinyImage({ mediaType: MediaType.DOCKER_MANIFEST, files: { 'a.txt': 'docker' } });
    await push(client, repository, docker, 'docker');
    expect((await client.getManifest(repository.at('docker'))).mediaType).toBe(MediaType.DOCKER_MANIFEST);

    const indexBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_INDEX,
        manifests: [{ mediaType: MediaType.DOCKER_MANIFEST, digest: docker.manifest.digest, size: docker.manifest.bytes.byteLength, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
    );
    const { digest } = await client.putManifest(repository.at('multi'), { bytes: indexBytes, mediaType: MediaType.OCI_INDEX });
    const index = await client.getManifest(repository.at('multi'));
    expect(index.mediaType).toBe(MediaType.OCI_INDEX);
    expect(index.digest).toBe(digest);
    const parsed = parseManifest(index);
    expect(parsed.kind === 'index' && parsed.index.manifests[0]?.digest).toBe(docker.manifest.digest);
    await expect(findImageLabels(client, repository.at('multi'))).rejects.toMatchObject({ code: 'REGISTRY_PROTOCOL' });
  });

  it('treats unknown manifests, blobs and repositories as absent', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/absent-${Date.now()}`);
    const client = new RegistryClient();
    const missing = digestOf(randomBytes(16));
    expect(await client.listTags(repository)).toEqual([]);
    expect(await client.headManifest(repository.at('nope'))).toBeUndefined();
    expect(await client.findManifest(repository.at('nope'))).toBeUndefined();
    expect(await client.findManifest(repository.at(missing))).toBeUndefined();
    expect(await client.headBlob(repository, missing)).toBeUndefined();
    expect(await client.findBlob(repository, missing)).toBeUndefined();
    expect(await client.openBlob(repository, missing)).toBeUndefined();
    expect(await client.deleteManifest(repository, missing)).toBe(false);
    await expect(client.getManifest(repository.at('nope'))).rejects.toMatchObject({ code: 'REGISTRY_MANIFEST_UNKNOWN' });
    await expect(client.getBlob(repository, missing)).rejects.toMatchObject({ code: 'REGISTRY_BLOB_UNKNOWN' });
  });

  it('uploads in chunks, from bytes and from a stream, and streams blobs back verified', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/chunked`);
    const client = new RegistryClient();
    const bytes = randomBytes(300_000);
    const digest = digestOf(bytes);
    const result = await client.uploadBlob(repository, bytes, { chunkSize: 64 * 1024 });
    expect(result).toEqual({ status: 'uploaded', digest, size: bytes.length });
    expect(client.stats.byOperation.uploadBlob).toBe(1 + 5 + 1); // POST, 5 PATCHes, PUT

    const other = randomBytes(200_000);
    const source = {
      size: other.length,
      async *open() {
        for (let offset = 0; offset < other.length; offset += 7_000) {
          await Promise.resolve();
          yield other.subarray(offset, offset + 7_000);
        }
      },
    };
    expect(await client.uploadBlob(repository, source, { digest: digestOf(other), chunkSize: 50_000 })).toMatchObject({ status: 'uploaded', size: other.length });

    const stream = await client.openBlob(repository, digestOf(other));
    expect(stream?.size).toBe(other.length);
    const pieces: Uint8Array[] = [];
    for await (const piece of stream?.stream ?? []) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(other)).toBe(true);
  });

  it('refuses to upload content that does not match its digest', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/mismatch`);
    const client = new RegistryClient();
    const bytes = randomBytes(1000);
    const wrong = digestOf(randomBytes(10));
    await expect(client.uploadBlob(repository, bytes, { digest: wrong })).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
    const stream = { open: async function* () { await Promise.resolve(); yield bytes; } };
    await expect(client.uploadBlob(repository, stream, { digest: wrong })).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
    expect(await client.headBlob(repository, wrong)).toBeUndefined();
  });

  it('mounts blobs across repositories and reports when an upload is needed instead', async (ctx) => {
    const source = parseRepository(`${host(ctx)}/strata/mount-source`);
    const target = parseRepository(`${host(ctx)}/strata/mount-target`);
    const client = new RegistryClient();
    const bytes = randomBytes(5000);
    await client.uploadBlob(source, bytes);
    expect(await client.mountBlob(target, digestOf(bytes), { from: source })).toEqual({ status: 'mounted' });
    expect(await client.headBlob(target, digestOf(bytes))).toEqual({ digest: digestOf(bytes), size: 5000 });
    expect(await client.mountBlob(target, digestOf(randomBytes(8)), { from: source })).toEqual({ status: 'upload-required' });
    const elsewhere = parseRepository(`other.example:5000/strata/x`);
    expect(await client.mountBlob(target, digestOf(bytes), { from: elsewhere })).toEqual({ status: 'upload-required' });
  });

  it('copies blobs by mount within a registry and by streaming across registries', async (ctx) => {
    const source = parseRepository(`${host(ctx)}/strata/copy-source`);
    const sameRegistry = parseRepository(`${host(ctx)}/strata/copy-target`);
    const client = new RegistryClient();
    const bytes = randomBytes(120_000);
    const digest = digestOf(bytes);
    await client.uploadBlob(source, bytes);
    expect(await client.copyBlob(sameRegistry, digest, { from: source })).toEqual({ status: 'mounted' });
    expect(await client.copyBlob(sameRegistry, digest, { from: source })).toEqual({ status: 'exists' });

    const binary = requireRegistryBinary(ctx);
    const other = await startRegistry(binary);
    try {
      const target = parseRepository(`${other.host}/strata/copied`);
      expect(await client.copyBlob(target, digest, { from: source, chunkSize: 50_000 })).toEqual({ status: 'uploaded' });
      expect(Buffer.from(await client.getBlob(target, digest)).equals(bytes)).toBe(true);
      await expect(client.copyBlob(target, digestOf(randomBytes(4)), { from: source })).rejects.toMatchObject({ code: 'REGISTRY_BLOB_UNKNOWN' });
    } finally {
      await other.stop();
    }
  });

  it('copies images and indexes within and across registries, keeping digests', async (ctx) => {
    const source = parseRepository(`${host(ctx)}/strata/image-source`);
    const client = new RegistryClient();
    const image = tinyImage({ files: { 'copy.txt': 'copy me' }, labels: { werf: 'copy' } });
    await push(client, source, image, 'v1');
    const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [{ mediaType: MediaType.OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.bytes.byteLength }] }));
    const index = await client.putManifest(source.at('multi'), { bytes: indexBytes, mediaType: MediaType.OCI_INDEX });

    const sameRegistry = parseRepository(`${host(ctx)}/strata/image-copy`);
    expect(await copyImage(client, source.at('v1'), sameRegistry.at('stage'))).toEqual({ digest: image.manifest.digest, mediaType: MediaType.OCI_MANIFEST });
    expect(await findImageLabels(client, sameRegistry.at('stage'))).toEqual({ werf: 'copy' });

    const binary = requireRegistryBinary(ctx);
    const other = await startRegistry(binary);
    try {
      const target = parseRepository(`${other.host}/strata/image-copy`);
      expect((await copyImage(client, source.at('multi'), target.at('multi'))).digest).toBe(index.digest);
      expect((await client.getManifest(target.at('multi'))).digest).toBe(index.digest);
      expect(Buffer.from(await client.getBlob(target, image.layer.digest)).equals(Buffer.from(image.layer.bytes))).toBe(true);
      const before = client.stats.byOperation.uploadBlob ?? 0;
      await copyImage(client, source.at('v1'), target.at(image.manifest.digest));
      expect(client.stats.byOperation.uploadBlob ?? 0).toBe(before);
      await expect(copyImage(client, source.at('absent'), target.at('x'))).rejects.toMatchObject({ code: 'REGISTRY_MANIFEST_UNKNOWN' });
    } finally {
      await other.stop();
    }
  });

  it('lists tags sorted, and deletes manifests', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/tags`);
    const client = new RegistryClient();
    const image = tinyImage({ files: { 't.txt': 'tags' } });
    const tags = ['zeta', 'alpha', 'd4bf3e71-1589714365467', 'Beta', '10', '9'];
    await client.uploadBlob(repository, image.layer.bytes);
    await client.uploadBlob(repository, image.config.bytes);
    for (const tag of tags) await client.putManifest(repository.at(tag), image.manifest);
    expect(await client.listTags(repository)).toEqual([...tags].sort());

    const cache = new TagListCache(client);
    const before = client.stats.byOperation.listTags ?? 0;
    expect(await cache.listTags(repository)).toEqual([...tags].sort());
    expect(await cache.listTags(repository)).toEqual([...tags].sort());
    expect(client.stats.byOperation.listTags).toBe(before + 1);

    expect(await client.deleteManifest(repository, image.manifest.digest)).toBe(true);
    expect(await client.headManifest(repository.at(image.manifest.digest))).toBeUndefined();
    expect(await client.listTags(repository)).toEqual([]);
    expect(await cache.listTags(repository, { live: true })).toEqual([]);
  });

  it('reports rejected manifests with the registry error codes', async (ctx) => {
    const repository = parseRepository(`${host(ctx)}/strata/rejected`);
    const client = new RegistryClient();
    const image = tinyImage({ files: { 'r.txt': 'never uploaded' } });
    const error = await client.putManifest(repository.at('v1'), image.manifest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REGISTRY_REJECTED');
    expect((error as RegistryError).data).toMatchObject({ method: 'PUT', status: 400, registryCodes: expect.arrayContaining(['MANIFEST_BLOB_UNKNOWN']) as unknown });
  });
});

/**
 * The client through a loopback proxy in front of a real registry that fails ~10% of requests
 * (5xx, 429, connection resets, before or after the registry saw the request), and that forces
 * shuffled `Link` pagination of tag listings.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, digestOf, parseRepository, type RegistryLogger } from '@strata/registry';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { tinyImage } from './support/images.js';
import { findRegistryBinary, requireRegistryBinary, startRegistry, type RegistryProcess } from './support/registry-process.js';

let registry: RegistryProcess | undefined;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  const binary = findRegistryBinary();
  if (binary !== undefined) registry = await startRegistry(binary);
});

afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await registry?.stop();
});

async function proxy(ctx: Parameters<typeof requireRegistryBinary>[0], options: Parameters<typeof startFaultProxy>[1]): Promise<FaultProxy> {
  requireRegistryBinary(ctx);
  if (registry === undefined) throw new Error('registry did not start');
  const started = await startFaultProxy(registry.host, options);
  proxies.push(started);
  return started;
}

const quickRetries = { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 };

describe('through a fault-injecting proxy', () => {
  it('uploads blobs and manifests and reads them back intact despite ~10% failures', async (ctx) => {
    const faulty = await proxy(ctx, { failureRate: 0.1, seed: 7 });
    const warnings: string[] = [];
    const logger: RegistryLogger = { debug: () => undefined, warn: (message) => warnings.push(message) };
    const client = new RegistryClient({ retry: quickRetries, logger });
    const repository = parseRepository(`${faulty.host}/strata/faulty`);
    const images = Array.from({ length: 12 }, (_, i) => tinyImage({ files: { [`f${i}.txt`]: `image ${i}` }, labels: { n: String(i) } }));
    for (const [i, image] of images.entries()) {
      await client.uploadBlob(repository, image.layer.bytes);
      await client.uploadBlob(repository, image.config.bytes);
      await client.putManifest(repository.at(`t${i}`), image.manifest);
    }
    const big = randomBytes(200_000);
    await client.uploadBlob(repository, big, { chunkSize: 20_000 });

    for (const [i, image] of images.entries()) {
      const manifest = await client.getManifest(repository.at(`t${i}`));
      expect(manifest.digest).toBe(image.manifest.digest);
      expect(Buffer.from(await client.getBlob(repository, image.layer.digest)).equals(Buffer.from(image.layer.bytes))).toBe(true);
    }
    expect(Buffer.from(await client.getBlob(repository, digestOf(big))).equals(big)).toBe(true);
    expect(await client.listTags(repository)).toEqual(images.map((_, i) => `t${i}`).sort());

    const injected = Object.values(faulty.stats.faults).reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(5);
    expect(Object.keys(faulty.stats.faults).length).toBeGreaterThanOrEqual(4);
    expect(client.stats.retries).toBeGreaterThan(0);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it('follows Link pagination of unsorted pages and returns every tag sorted', async (ctx) => {
    const paging = await proxy(ctx, { tagPageSize: 10, seed: 3 });
    const client = new RegistryClient();
    const repository = parseRepository(`${paging.host}/strata/paged`);
    const image = tinyImage({ files: { 'p.txt': 'paged' } });
    await client.uploadBlob(repository, image.layer.bytes);
    await client.uploadBlob(repository, image.config.bytes);
    const tags = Array.from({ length: 35 }, (_, i) => `${(i * 7919) % 1000}-tag`);
    for (const tag of tags) await client.putManifest(repository.at(tag), image.manifest);

    const before = paging.stats.tagPages;
    const listed = await client.listTags(repository);
    expect(paging.stats.tagPages - before).toBe(4);
    expect(listed).toEqual([...new Set(tags)].sort());
  });

  it('paginates correctly while faults are injected too', async (ctx) => {
    const both = await proxy(ctx, { tagPageSize: 10, failureRate: 0.1, seed: 11 });
    const client = new RegistryClient({ retry: quickRetries });
    const repository = parseRepository(`${both.host}/strata/paged-faulty`);
    const image = tinyImage({ files: { 'q.txt': 'paged faulty' } });
    await client.uploadBlob(repository, image.layer.bytes);
    await client.uploadBlob(repository, image.config.bytes);
    const tags = Array.from({ length: 25 }, (_, i) => `v${i}`);
    for (const tag of tags) await client.putManifest(repository.at(tag), image.manifest);
    for (let round = 0; round < 3; round++) expect(await client.listTags(repository)).toEqual([...tags].sort());
  });
});

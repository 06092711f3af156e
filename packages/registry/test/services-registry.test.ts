/**
 * The client against the shared registry that `scripts/services.sh` runs on 127.0.0.1:5000 (the
 * one the stage store and the end-to-end tests use): skipped with a reason locally when it is not
 * running, failing under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RegistryClient, TagListCache, findImageLabels, parseRepository } from '@strata/registry';
import { REGISTRY, requireServices } from '../../../test/support/services.js';
import { tinyImage } from './support/images.js';

describe('shared services registry', () => {
  it('pushes, lists, reads labels and deletes', async (ctx) => {
    await requireServices(ctx, 'registry');
    const client = new RegistryClient();
    expect(await client.ping(REGISTRY)).toEqual({ authentication: 'none' });
    const repository = parseRepository(`${REGISTRY}/strata-registry-test/smoke-${randomBytes(4).toString('hex')}`);
    const image = tinyImage({ labels: { werf: 'smoke' } });
    await client.uploadBlob(repository, image.layer.bytes);
    await client.uploadBlob(repository, image.config.bytes);
    const tag = `${'a'.repeat(56)}-${Date.now()}`;
    await client.putManifest(repository.at(tag), image.manifest);

    const cache = new TagListCache(client);
    expect(await cache.listTags(repository)).toEqual([tag]);
    expect(await findImageLabels(client, repository.at(tag))).toEqual({ werf: 'smoke' });
    expect(await client.deleteManifest(repository, image.manifest.digest)).toBe(true);
    expect(await cache.listTags(repository, { live: true })).toEqual([]);
  });
});

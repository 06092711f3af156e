/** Test kit for the registry stage store: unique repositories and tiny real images pushed to them. */
import { randomBytes } from 'node:crypto';
import { parseRepository, type Repository } from '@strata/registry';
import type { RegistryClient } from '@strata/registry';
import { tinyImage } from './images.js';

/** A repository path nobody else uses: `<registry>/strata-stage-test/<name>-<random>`. */
export function uniqueRepository(registry: string, name: string): Repository {
  return parseRepository(`${registry}/strata-stage-test/${name}-${randomBytes(5).toString('hex')}`);
}

/**
 * Pushes a tiny image with `files` and `labels` to `repository:tag` and returns the reference.
 * Distinct files give distinct layers and digests.
 */
export async function pushTinyImage(
  client: RegistryClient,
  repository: Repository,
  tag: string,
  options: { files?: Record<string, string>; labels?: Record<string, string>; pretty?: boolean } = {},
): Promise<string> {
  const image = tinyImage(options);
  await client.uploadBlob(repository, image.layer.bytes);
  await client.uploadBlob(repository, image.config.bytes);
  await client.putManifest(repository.at(tag), image.manifest);
  return repository.at(tag).toString();
}

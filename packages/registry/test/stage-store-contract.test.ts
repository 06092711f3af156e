/**
 * `RegistryStageStore` runs the `StageStore` contract against the real registry of
 * `scripts/services.sh` (127.0.0.1:5000), one fresh repository per test. Source images are tiny real
 * images in a scratch repository of the same registry (so publishing copies registry to registry, with
 * blob mounts, and rewrites the config labels). Skipped with the reason locally when the registry is
 * not running; failing under CI=true.
 */
import { it } from 'vitest';
import { describeStageStoreContract } from '@strata/core/testing';
import { RegistryClient, RegistryStageStore } from '@strata/registry';
import { REGISTRY, findMissingServices } from '../../../test/support/services.js';
import { pushTinyImage, uniqueRepository } from './support/stage-kit.js';

const missing = await findMissingServices('registry');

if (missing !== undefined) {
  it('StageStore contract: RegistryStageStore', (ctx) => ctx.skip(missing));
} else {
  describeStageStoreContract('RegistryStageStore', () => {
    const repository = uniqueRepository(REGISTRY, 'contract');
    const scratch = uniqueRepository(REGISTRY, 'contract-sources');
    const setup = new RegistryClient();
    const project = 'strata-contract';
    return {
      project,
      // A new client and tag cache per store object, as another process would have.
      client: () => new RegistryStageStore(repository, { client: new RegistryClient(), project }),
      sourceImage: (name) => pushTinyImage(setup, scratch, name, { files: { [`${name}.txt`]: `${name}\n` } }),
    };
  });
}

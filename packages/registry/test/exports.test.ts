import { expect, it } from 'vitest';
import * as registry from '@strata/registry';

// The runtime public API, pinned so an accidental export shows up in review (STYLE rule 25).
it('exports exactly the documented runtime names', () => {
  expect(Object.keys(registry).sort()).toEqual([
    'DOCKER_HUB',
    'DigestHasher',
    'DockerConfigCredentialStore',
    'FileStageRecordCache',
    'ImageReference',
    'MANIFEST_MEDIA_TYPES',
    'MediaType',
    'MemoryCredentialStore',
    'MemoryStageRecordCache',
    'RegistryClient',
    'RegistryError',
    'RegistryStageStore',
    'Repository',
    'TagListCache',
    'TagListing',
    'copyImage',
    'createImageManifest',
    'defaultStageRecordCacheDir',
    'digestOf',
    'dockerConfigPath',
    'findImageLabels',
    'isDigest',
    'isIndexMediaType',
    'isLoopbackHost',
    'isRegistryImageReference',
    'nodeHttpFetch',
    'parseAuthChallenges',
    'parseDigest',
    'parseImageReference',
    'parseManifest',
    'parseNextLink',
    'parseRepository',
    'parseRetryAfter',
    'readImageConfigLabels',
    'redactUrl',
    'withImageConfigLabels',
  ]);
});

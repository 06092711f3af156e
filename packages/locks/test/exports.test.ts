import { expect, it } from 'vitest';
import * as api from '../src/index.js';

// Pins the runtime exports so an accidental addition or removal shows up in review (STYLE rule 25).
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'FILE_LOCK_MIN_LEASE_MS',
    'FileStageLock',
    'LOCAL_SYNCHRONIZATION',
    'LockError',
    'RedisStageLock',
    'createStageLock',
    'defaultLockDir',
    'describeRedisLocation',
    'ioredisLockClient',
    'parseRedisUrl',
  ]);
});

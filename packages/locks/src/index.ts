/**
 * `@strata/locks`: adapters of the `StageLock` port (SPEC §4.2) — {@link FileStageLock} for the
 * processes of one host and {@link RedisStageLock} for many hosts — and {@link createStageLock}, which
 * picks one from the CLI's `--synchronization` value.
 */
export { createStageLock, LOCAL_SYNCHRONIZATION, type ClosableStageLock, type CreateStageLockOptions } from './create-stage-lock.js';
export { LockError, type LockErrorCode } from './errors.js';
export {
  defaultLockDir,
  FILE_LOCK_MIN_LEASE_MS,
  FileStageLock,
  type FileStageLockOptions,
  type LockFileSystem,
} from './file-stage-lock.js';
export {
  ioredisLockClient,
  RedisStageLock,
  type RedisConnectOptions,
  type RedisLockClient,
  type RedisStageLockOptions,
} from './redis-stage-lock.js';
export { describeRedisLocation, parseRedisUrl, type RedisLocation } from './redis-url.js';

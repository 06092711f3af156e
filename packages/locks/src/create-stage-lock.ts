import type { CallOptions, StageLock } from '@strata/core';
import { LockError } from './errors.js';
import { FileStageLock, type FileStageLockOptions } from './file-stage-lock.js';
import { RedisStageLock, type RedisStageLockOptions } from './redis-stage-lock.js';

/** A {@link StageLock} that holds resources until closed. */
export interface ClosableStageLock extends StageLock {
  /** Releases every lock still held through this instance and closes its connection, if any. */
  close(options?: CallOptions): Promise<void>;
}

export interface CreateStageLockOptions extends CallOptions {
  /** Options of the file lock (`:local`). */
  file?: FileStageLockOptions | undefined;
  /** Options of the Redis lock (`redis://…`). */
  redis?: (RedisStageLockOptions & { connectTimeoutMs?: number | undefined }) | undefined;
}

/** The `--synchronization` value for file locks on this host, the default. */
export const LOCAL_SYNCHRONIZATION = ':local';

/**
 * Makes the lock the CLI's `--synchronization` names: `:local` (file locks, one host) or
 * `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (distributed; connects before returning). Throws
 * `LOCK_INVALID_URL` for anything else and `LOCK_UNAVAILABLE` when Redis does not answer.
 */
export async function createStageLock(
  synchronization: string,
  options: CreateStageLockOptions = {},
): Promise<ClosableStageLock> {
  if (synchronization === LOCAL_SYNCHRONIZATION) return new FileStageLock(options.file);
  if (/^redis:\/\//i.test(synchronization)) {
    return RedisStageLock.connect(synchronization, { ...options.redis, signal: options.signal });
  }
  const shown = synchronization.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
  throw new LockError('LOCK_INVALID_URL', `unsupported synchronization ${JSON.stringify(shown)}`, {
    hint: 'Use :local (file locks on this host, the default) or redis://HOST:PORT[/DB].',
    data: { synchronization: shown },
  });
}
